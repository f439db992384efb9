"""SpaceMouse (fake pyspacemouse) and keyboard (a real pty, and a fake evdev) teleop devices."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from tests.fakes import evdev as fake_evdev
from tests.fakes import pyspacemouse as fake_mouse
from userl.core.registry import TELEOPS
from userl.hardware.teleop import keyboard, spacemouse  # noqa: F401  (registers)
from userl.hardware.teleop.keyboard import KeyboardConfig
from userl.hardware.teleop.spacemouse import SpaceMouseConfig, shape_axes
from userl.hardware.vendor import HardwareUnavailable


@pytest.fixture(autouse=True)
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_mouse.reset()
    fake_evdev.reset()
    monkeypatch.setitem(sys.modules, "pyspacemouse", fake_mouse)
    monkeypatch.setitem(sys.modules, "evdev", fake_evdev)


IDENTITY = {"axis_map": [0, 1, 2, 3, 4, 5], "axis_signs": [1.0] * 6}


def test_dead_zone_scale_and_axis_mapping() -> None:
    config = SpaceMouseConfig(dead_zone_fraction=0.1, translation_scale=0.5, rotation_scale=2.0,
                              **IDENTITY)
    shaped = shape_axes(np.array([0.05, -0.55, 1.0, 0.0, 0.3, -1.0]), config)
    assert np.allclose(shaped, [0.0, -0.25, 0.5, 0.0, 4 / 9, -1.0])
    swapped = SpaceMouseConfig(dead_zone_fraction=0.0)  # default: device y -> -base x, ...
    assert np.allclose(shape_axes(np.array([0.2, 0.4, 0, 0, 0, 0]), swapped)[:2], [-0.4, 0.2])


def test_spacemouse_motion_buttons_and_activity() -> None:
    mouse = TELEOPS.get("spacemouse")(SpaceMouseConfig(dead_zone_fraction=0.0, **IDENTITY))
    idle = mouse.read()
    assert not idle.active and idle.action[6] == -1.0  # open until told otherwise
    fake_mouse.STATE.x = 0.5
    moving = mouse.read()
    assert moving.active and moving.action[0] == pytest.approx(0.5)
    fake_mouse.STATE.x = 0.0
    fake_mouse.STATE.buttons = [1, 0]
    closing = mouse.read()
    assert closing.active and closing.action[6] == 1.0 and closing.buttons == (True, False)
    fake_mouse.STATE.buttons = [0, 0]
    after = mouse.read()
    assert not after.active and after.action[6] == 1.0  # the gripper stays closed
    mouse.close()
    assert ("close", None) in fake_mouse.CALLS


def test_spacemouse_missing_is_one_line_with_the_fix() -> None:
    fake_mouse.PRESENT[:] = [False]
    with pytest.raises(HardwareUnavailable, match="udev rule"):
        TELEOPS.get("spacemouse")(SpaceMouseConfig())
    with pytest.raises(HardwareUnavailable, match="axis_map"):
        TELEOPS.get("spacemouse")(SpaceMouseConfig(axis_map=[0, 0, 1, 2, 3, 4]))


def test_keyboard_reads_labels_from_a_terminal_without_x() -> None:
    master, slave = os.openpty()
    try:
        keys = TELEOPS.get("keyboard")(KeyboardConfig(device_path=os.ttyname(slave)))
        assert keys.read().events == ()
        os.write(master, b"gs xqrf")
        command = keys.read()
        assert command.events == ("start", "success", "hold", "release", "failure")
        assert not command.active and not np.any(command.action)
        keys.close()
    finally:
        os.close(master)
        os.close(slave)


def test_keyboard_terminal_missing_is_one_line() -> None:
    with pytest.raises(HardwareUnavailable, match="teleop.backend=evdev"):
        TELEOPS.get("keyboard")(KeyboardConfig(device_path="/nonexistent/tty"))


def test_keyboard_evdev_picks_a_keyboard_and_reports_key_downs_only() -> None:
    fake_evdev.add_device("/dev/input/event0", keys=[272])  # a mouse
    events = fake_evdev.add_device("/dev/input/event3", keys=[57, 31, 33])
    keys = TELEOPS.get("keyboard")(KeyboardConfig(backend="evdev"))
    events.extend([fake_evdev.key_event(57, 1), fake_evdev.key_event(57, 0),
                   fake_evdev.key_event(30, 1), fake_evdev.key_event(31, 1)])
    assert keys.read().events == ("hold", "success")
    keys.close()
    assert fake_evdev.DEVICES["/dev/input/event3"].get("closed")


def test_keyboard_evdev_without_a_keyboard_and_duplicate_keys_are_errors() -> None:
    with pytest.raises(HardwareUnavailable, match="input group"):
        TELEOPS.get("keyboard")(KeyboardConfig(backend="evdev"))
    with pytest.raises(HardwareUnavailable, match="share one key"):
        TELEOPS.get("keyboard")(KeyboardConfig(key_stop="s"))
