"""The MuJoCo simulation: a Panda built from its DH table, cameras, impedance control.

Import `userl.hardware.sim.franka` / `.camera` to register the drivers. This is the one place
that picks MuJoCo's GL backend: headless EGL unless MUJOCO_GL is set (osmesa, glfw) before
MuJoCo is first imported; only the modules of this package import MuJoCo.
"""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
