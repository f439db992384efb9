#!/usr/bin/env bash
# Install the system libraries userl needs: MuJoCo's headless rendering (EGL, or OSMesa as a
# fallback), and the USB/HID libraries the hardware packages load (pyrealsense2: libusb;
# pyspacemouse: hidapi), and FFmpeg's shared libraries, with which torchcodec decodes LeRobot
# dataset videos. Runs only as root on a Debian/Ubuntu machine; otherwise it says what to
# install and goes on.
set -euo pipefail
# "shared library name:Debian package", one per library
LIBRARIES=(
  "libEGL.so.1:libegl1"
  "libOSMesa.so:libosmesa6"
  "libusb-1.0.so.0:libusb-1.0-0"
  "libhidapi-hidraw.so.0:libhidapi-hidraw0"
  "libhidapi-libusb.so.0:libhidapi-libusb0"
  "libavcodec.so.59:libavcodec59"
  "libavformat.so.59:libavformat59"
  "libavutil.so.57:libavutil57"
  "libswscale.so.6:libswscale6"
  "libswresample.so.4:libswresample4"
  "libavdevice.so.59:libavdevice59"
  "libavfilter.so.8:libavfilter8"
)
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
missing=()
for entry in "${LIBRARIES[@]}"; do
  have_lib "${entry%%:*}" || missing+=("${entry##*:}")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
# libgl1-mesa-dri comes with the rendering libraries (EGL's software driver)
case " ${missing[*]} " in *" libegl1 "*|*" libosmesa6 "*) missing+=("libgl1-mesa-dri") ;; esac
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system libraries (${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: userl needs these system libraries; as root run:" \
       "apt-get install ${missing[*]}" >&2
fi
