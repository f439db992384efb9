"""Ray workers, pipelines, training and evaluation.

Before Ray is first imported, keep a local Ray on the loopback interface: with this
setting Ray picks 127.0.0.1 as the node address and binds its servers there, instead of
the machine's routable address. (A lab cluster, joined by explicit address, sets it to 1.)
Token authentication is asked for explicitly (Ray's default, which it otherwise announces on
every start): a local Ray makes its token in ~/.ray/auth_token; a lab cluster shares one
(docs/real-robot.md). `RAY_AUTH_MODE=disabled` in the environment opts out.
"""

import os

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "token")
