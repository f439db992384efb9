"""Ray workers, pipelines, training and evaluation.

Before Ray is first imported, keep a local Ray on the loopback interface (Ray reads this on
import; `ray_session` sets it again right before each start, so a Ray imported earlier is
kept there too). Token authentication is asked for explicitly (Ray's default, which it
otherwise announces on every start): a local Ray makes its token in ~/.ray/auth_token; a lab
cluster shares one (docs/real-robot.md). `RAY_AUTH_MODE=disabled` in the environment opts
out. Ray reads the mode once per process, so it is set only if Ray is not loaded yet: the
process and the Ray it starts must agree.
"""

import os
import sys

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
if "ray" not in sys.modules:
    os.environ.setdefault("RAY_AUTH_MODE", "token")
