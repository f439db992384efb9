"""Stand-ins for vendor modules that cannot install here, each written from the real package's
source and checked against it (arx_r5_sdk: tests/integration/test_arx_fake_matches_sdk.py).
Every other vendor package (franky-control, pyrealsense2, pyspacemouse, OpenCV, evdev) is
tested for real."""
