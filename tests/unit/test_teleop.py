"""SpaceMouse and keyboard teleop on the real vendor modules (pyspacemouse 2.x, evdev): the
"no device" paths as they are here, and a plugged-in device scripted at the HID/input layer
(tests/devices.py); the terminal keyboard on a real pty."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.devices import plug_in_keyboards, plug_in_spacemouse
from userl.core.registry import TELEOPS
from userl.hardware.teleop import keyboard, spacemouse  # noqa: F401  (registers)
from userl.hardware.teleop.keyboard import KeyboardConfig
from userl.hardware.teleop.spacemouse import SpaceMouseConfig, shape_axes
from userl.hardware.vendor import HardwareUnavailable

IDENTITY = {"axis_map": [0, 1, 2, 3, 4, 5], "axis_signs": [1.0] * 6}


def test_dead_zone_scale_and_axis_mapping() -> None:
    config = SpaceMouseConfig(
        dead_zone_fraction=0.1, translation_scale=0.5, rotation_scale=2.0, **IDENTITY
    )
    shaped = shape_axes(np.array([0.05, -0.55, 1.0, 0.0, 0.3, -1.0]), config)
    assert np.allclose(shaped, [0.0, -0.25, 0.5, 0.0, 4 / 9, -1.0])
    # default, in hid_z_up: device y (away from the operator) -> base x, device x (right) ->
    # -base y (the base's y points to the operator's left), z up -> z up
    default = SpaceMouseConfig(dead_zone_fraction=0.0)
    assert np.allclose(
        shape_axes(np.array([0.2, 0.4, 0.3, 0, 0, 0]), default)[:3], [0.4, -0.2, 0.3]
    )


def test_spacemouse_motion_buttons_and_activity(monkeypatch) -> None:
    device = plug_in_spacemouse(monkeypatch)
    mouse = TELEOPS.get("spacemouse")(SpaceMouseConfig(dead_zone_fraction=0.0, **IDENTITY))
    assert device.open_kwargs["axis_convention"].value == "hid_z_up"  # never the legacy one
    idle = mouse.read()
    assert not idle.active and idle.action[6] == -1.0  # open until told otherwise
    device.state.x = 0.5
    moving = mouse.read()
    assert moving.active and moving.action[0] == pytest.approx(0.5)
    device.state.x = 0.0
    device.state.buttons = [1, 0]
    closing = mouse.read()
    assert closing.active and closing.action[6] == 1.0 and closing.buttons == (True, False)
    device.state.buttons = [0, 0]
    after = mouse.read()
    assert not after.active and after.action[6] == 1.0  # the gripper stays closed
    mouse.close()
    assert device.closed


def test_spacemouse_missing_is_one_line_with_the_fix() -> None:
    """pyspacemouse 2.x raises RuntimeError when no device is present."""
    pytest.importorskip("pyspacemouse")
    with pytest.raises(HardwareUnavailable, match="no SpaceMouse found.*udev rule") as error:
        TELEOPS.get("spacemouse")(SpaceMouseConfig())
    assert "\n" not in str(error.value)
    with pytest.raises(HardwareUnavailable, match="axis_map"):
        TELEOPS.get("spacemouse")(SpaceMouseConfig(axis_map=[0, 0, 1, 2, 3, 4]))


def test_spacemouse_open_failure_and_a_named_device_not_connected_are_one_line(monkeypatch) -> None:
    import pyspacemouse

    plug_in_spacemouse(monkeypatch)
    with pytest.raises(
        HardwareUnavailable, match="'SpaceMouse Wireless' .*connected: SpaceMouse Compact"
    ):
        TELEOPS.get("spacemouse")(SpaceMouseConfig(device="SpaceMouse Wireless"))

    def refuse(**kwargs):
        raise RuntimeError("Failed to open device\nhidraw: permission denied")

    monkeypatch.setattr(pyspacemouse, "open", refuse)
    with pytest.raises(HardwareUnavailable, match="cannot open the SpaceMouse .*udev") as error:
        TELEOPS.get("spacemouse")(SpaceMouseConfig())
    assert "\n" not in str(error.value)


def test_spacemouse_legacy_or_unknown_axis_convention_is_refused(monkeypatch) -> None:
    plug_in_spacemouse(monkeypatch)
    for name in ("legacy", "sideways"):
        with pytest.raises(HardwareUnavailable, match=f"teleop.axis_convention='{name}'"):
            TELEOPS.get("spacemouse")(SpaceMouseConfig(axis_convention=name))


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


def test_keyboard_evdev_picks_a_keyboard_and_reports_key_downs_only(monkeypatch) -> None:
    import evdev

    ecodes = evdev.ecodes
    plugged = plug_in_keyboards(
        monkeypatch,
        {
            "/dev/input/event0": [ecodes.BTN_LEFT],  # a mouse
            "/dev/input/event3": [ecodes.KEY_SPACE, ecodes.KEY_S, ecodes.KEY_F],
        },
    )
    keys = TELEOPS.get("keyboard")(KeyboardConfig(backend="evdev"))
    board = plugged["/dev/input/event3"]
    board.press(ecodes.KEY_SPACE, 1)
    board.press(ecodes.KEY_SPACE, 0)
    board.press(ecodes.KEY_A, 1)
    board.press(ecodes.KEY_S, 1)
    assert keys.read().events == ("hold", "success")
    keys.close()
    assert board.closed and plugged["/dev/input/event0"].closed


def test_keyboard_evdev_without_a_keyboard_and_duplicate_keys_are_errors() -> None:
    pytest.importorskip("evdev")  # the real one: no /dev/input keyboard on this machine
    with pytest.raises(HardwareUnavailable, match="input group"):
        TELEOPS.get("keyboard")(KeyboardConfig(backend="evdev"))
    with pytest.raises(HardwareUnavailable, match="share one key"):
        TELEOPS.get("keyboard")(KeyboardConfig(key_stop="s"))


def test_keyboard_evdev_device_path_that_does_not_exist_is_one_line() -> None:
    """The real evdev raises FileNotFoundError for a missing path; it used to escape raw."""
    pytest.importorskip("evdev")
    with pytest.raises(
        HardwareUnavailable, match="cannot open /dev/input/event99 .*teleop.device_path"
    ) as error:
        TELEOPS.get("keyboard")(KeyboardConfig(backend="evdev", device_path="/dev/input/event99"))
    assert "\n" not in str(error.value)
