#!/usr/bin/env bash
# Install the system libraries MuJoCo needs to render headless (EGL, or OSMesa as a fallback),
# and FFmpeg's shared libraries, with which torchcodec decodes LeRobot dataset videos.
# Runs only as root on a Debian/Ubuntu machine; otherwise it says what to install and goes on.
set -euo pipefail
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
FFMPEG_PACKAGES="libavcodec59 libavformat59 libavutil57 libswscale6 libswresample4 libavdevice59 libavfilter8"
if ! have_lib libavcodec.so; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing FFmpeg libraries for LeRobot dataset videos ($FFMPEG_PACKAGES)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $FFMPEG_PACKAGES >/dev/null || \
      apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
  else
    echo "note: LeRobot dataset videos need FFmpeg's libraries; as root run:" \
         "apt-get install ffmpeg" >&2
  fi
fi
if have_lib libEGL.so.1 && have_lib libOSMesa.so; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing rendering libraries for MuJoCo (libegl1 libgl1-mesa-dri libosmesa6)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends libegl1 libgl1-mesa-dri libosmesa6 >/dev/null
else
  echo "note: MuJoCo rendering needs libEGL (or OSMesa); as root run:" \
       "apt-get install libegl1 libgl1-mesa-dri libosmesa6" >&2
fi
