"""Keyboard labels without an X server (`keyboard`): success/failure marks, start/stop, an
emergency hold and its release. Two backends: `terminal` reads a tty in cbreak mode (for a
command run in the foreground), `evdev` reads a /dev/input keyboard (no terminal needed, e.g.
on the robot node under Ray; the user must be in the `input` group)."""

from __future__ import annotations

import os
import select
import termios
import tty
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from userl.core.registry import TELEOPS, Registry
from userl.hardware.teleop.base import Teleop, TeleopCommand, TeleopConfig
from userl.hardware.vendor import HardwareUnavailable, first_line, import_vendor


@dataclass
class KeyboardConfig(TeleopConfig):
    """Keyboard labels and an emergency hold, without X (`hardware/teleop/keyboard.py`)."""

    backend: str = "terminal"  # terminal (raw tty) | evdev (a /dev/input keyboard, no terminal)
    device_path: str = ""  # terminal: empty = /dev/tty; evdev: empty = the first keyboard found
    key_success: str = "s"  # marks the episode a success
    key_failure: str = "f"  # marks the episode a failure
    key_start: str = "g"  # starts the next episode
    key_stop: str = "p"  # stops the run
    key_hold: str = " "  # emergency hold: latches the robot's hold
    key_release: str = "r"  # clears the hold latch


KEY_READERS: Registry = Registry("keyboard backend")
DEFAULT_TTY = "/dev/tty"
EVDEV_NAMES = {" ": "KEY_SPACE", "\n": "KEY_ENTER", "\t": "KEY_TAB"}


class KeyReader(ABC):
    @abstractmethod
    def pressed(self) -> list[str]:
        """Keys pressed since the last call, as characters; never blocks."""

    @abstractmethod
    def close(self) -> None: ...


@KEY_READERS.register("terminal")
class TerminalKeys(KeyReader):
    """A tty in cbreak mode (no echo, no line buffering); restored on close."""

    def __init__(self, config: KeyboardConfig) -> None:
        path = config.device_path or DEFAULT_TTY
        self.path = path
        try:
            self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            self.saved = termios.tcgetattr(self.fd)
        except OSError as error:
            raise HardwareUnavailable(
                f"keyboard: cannot read the terminal {path} ({first_line(error)}); run in a "
                "terminal, or use teleop.backend=evdev on a machine without one"
            ) from None
        tty.setcbreak(self.fd)

    def pressed(self) -> list[str]:
        keys: list[str] = []
        while select.select([self.fd], [], [], 0)[0]:
            data = os.read(self.fd, 64)
            if not data:  # readable but empty: the terminal hung up; no key can come now
                raise HardwareUnavailable(
                    f"keyboard: the terminal {self.path} hung up; the "
                    "operator's keys can no longer be read"
                )
            keys.extend(data.decode(errors="ignore"))
        return keys

    def close(self) -> None:
        try:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
        except termios.error:
            pass  # the terminal hung up: there is no mode left to restore
        finally:
            os.close(self.fd)


@KEY_READERS.register("evdev")
class EvdevKeys(KeyReader):
    """A Linux input device (the configured path, else the first with a space bar)."""

    def __init__(self, config: KeyboardConfig) -> None:
        evdev = import_vendor("evdev", "teleop", "keyboard backend 'evdev'")
        self.ecodes = evdev.ecodes
        paths = [config.device_path] if config.device_path else evdev.list_devices()
        self.device: Any = None
        for path in paths:
            try:
                device = evdev.InputDevice(path)
            except OSError as error:  # missing, or not readable by this user
                if config.device_path:
                    raise HardwareUnavailable(
                        f"keyboard: cannot open {path} ({first_line(error)}); check "
                        "teleop.device_path (ls /dev/input/by-id) and that the user is in the "
                        "input group"
                    ) from None
                continue  # scanning: an unreadable device is not the keyboard we can use
            if self.ecodes.KEY_SPACE in device.capabilities().get(self.ecodes.EV_KEY, []):
                self.device = device
                break
            device.close()
        if self.device is None:
            raise HardwareUnavailable(
                "keyboard: no readable keyboard under /dev/input; plug one in and add the user "
                "to the input group (sudo usermod -aG input $USER), or set teleop.device_path="
            )
        codes = {self.code(key): key for key in self.bound_keys(config)}
        self.names = {code: key for code, key in codes.items() if code is not None}

    @staticmethod
    def bound_keys(config: KeyboardConfig) -> list[str]:
        return [
            config.key_success,
            config.key_failure,
            config.key_start,
            config.key_stop,
            config.key_hold,
            config.key_release,
        ]

    def code(self, key: str) -> int | None:
        return self.ecodes.ecodes.get(EVDEV_NAMES.get(key, f"KEY_{key.upper()}"))

    def pressed(self) -> list[str]:
        keys: list[str] = []
        while (event := self.device.read_one()) is not None:
            if event.type == self.ecodes.EV_KEY and event.value == 1 and event.code in self.names:
                keys.append(self.names[event.code])
        return keys

    def close(self) -> None:
        self.device.close()


@TELEOPS.register("keyboard", config=KeyboardConfig)
class KeyboardTeleop(Teleop):
    """Labels only: the action stays zero and the device never counts as active."""

    def __init__(self, config: KeyboardConfig) -> None:
        self.config = config
        self.labels = {
            config.key_success: "success",
            config.key_failure: "failure",
            config.key_start: "start",
            config.key_stop: "stop",
            config.key_hold: "hold",
            config.key_release: "release",
        }
        if len(self.labels) != 6:
            raise HardwareUnavailable(
                "keyboard: two labels share one key; give each of "
                "teleop.key_success/failure/start/stop/hold/release its own"
            )
        self.reader: KeyReader = KEY_READERS.get(config.backend)(config)

    def read(self) -> TeleopCommand:
        events = tuple(self.labels[key] for key in self.reader.pressed() if key in self.labels)
        return TeleopCommand(events=events)

    def close(self) -> None:
        self.reader.close()
