"""The MuJoCo simulation: a Panda built from its DH table, cameras, impedance control.

Import `userl.hardware.sim.franka` / `.camera` to register the drivers. Rendering is headless
(EGL) unless MUJOCO_GL is set before MuJoCo is first imported.
"""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
