"""Stand-ins for vendor modules (franky, arx_r5_sdk, pyrealsense2, cv2, pyspacemouse, evdev):
each records the calls a driver makes; tests install them in `sys.modules`."""
