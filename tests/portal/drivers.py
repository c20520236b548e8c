"""Two ways through the same pages: with the mouse (Playwright's click and fill) and with the
keyboard only (Tab to the control, then type, Space or Enter; the file chooser opened with the
keyboard). A journey written against `Driver` runs both ways, so the keyboard test is the same
journey and not a thinner copy of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

# More Tab presses than any portal page has focusable elements before its last control.
MOST_TABS = 200

_IS_FOCUSED = "element => element === document.activeElement"
# A focus indicator the user can see: an outline or a box shadow on the focused control.
_FOCUS_SHOWN = """element => {
  const style = getComputedStyle(element);
  return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
      || style.boxShadow !== 'none';
}"""
_DESCRIBE = """element => element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
  + ' ' + (element.getAttribute('aria-label') || element.innerText || element.value || '')
    .trim().slice(0, 60)"""


class Driver:
    """What a journey does on a page; `page` is the Playwright page."""

    name = "mouse"

    def __init__(self, page: Any) -> None:
        self.page = page

    def fill(self, target: Any, text: str) -> None:
        target.fill(text)

    def fill_date(self, target: Any, day: date) -> None:
        target.fill(day.isoformat())

    def select(self, target: Any, value: str) -> None:
        target.select_option(value)

    def check(self, target: Any) -> None:
        target.check()

    def activate(self, target: Any) -> None:
        """Follow a link or press a button."""
        target.click()

    def upload(self, target: Any, files: list[Path]) -> None:
        target.set_input_files([str(f) for f in files])

    @contextmanager
    def download(self, target: Any) -> Iterator[Any]:
        with self.page.expect_download() as download:
            self.activate(target)
        yield download.value


class Keyboard(Driver):
    """Only key presses reach the page: Tab (and the arrow keys inside a radio group) moves the
    focus, typing fills, Space ticks and opens the file chooser, Enter follows and submits.
    Every control reached must show that it has the focus."""

    name = "keyboard"

    def __init__(self, page: Any) -> None:
        super().__init__(page)
        self._date_order: tuple[str, ...] | None = None
        # A listener from the start has Playwright intercept every file chooser for the whole
        # page. Without it, interception is switched on only when upload() starts waiting, and
        # on a busy machine the Space press could reach Chromium first: the chooser then opens
        # natively and the wait times out (seen once in CI).
        page.on("filechooser", lambda chooser: None)

    def focus(self, target: Any) -> None:
        """Press Tab until `target` has the focus (from wherever the focus is now)."""
        target.wait_for()
        seen = []
        for _ in range(MOST_TABS):
            if target.evaluate(_IS_FOCUSED):
                assert target.evaluate(_FOCUS_SHOWN), f"no visible focus on {seen[-1:]}"
                return
            self.page.keyboard.press("Tab")
            seen.append(self.page.evaluate(
                f"() => document.activeElement && ({_DESCRIBE})(document.activeElement)"))
        raise AssertionError(f"Tab never reached {target}; the focus went through {seen}")

    def fill(self, target: Any, text: str) -> None:
        self.focus(target)
        self.page.keyboard.press("Control+A")
        self.page.keyboard.press("Delete")
        self.page.keyboard.type(text)
        assert target.input_value() == text

    def _order(self, target: Any) -> tuple[str, ...]:
        """The order in which this Chromium's date field takes day, month and year (it follows
        the browser's locale, which headless Chromium does not always take from --lang)."""
        if self._date_order is None:
            self.focus(target)
            self.page.keyboard.type("0102" + "2030")
            value = target.input_value()
            self._date_order = {"2030-02-01": ("day", "month", "year"),
                                "2030-01-02": ("month", "day", "year")}.get(value)
            assert self._date_order, f"unknown date field order (typed 01 02 2030, got {value})"
        return self._date_order

    def fill_date(self, target: Any, day: date) -> None:
        parts = {"day": f"{day.day:02d}", "month": f"{day.month:02d}", "year": str(day.year)}
        order = self._order(target)
        self.focus(target)
        for _ in order:  # back to the first part (Tab and the arrows move between the parts)
            self.page.keyboard.press("ArrowLeft")
        self.page.keyboard.type("".join(parts[p] for p in order))
        assert target.input_value() == day.isoformat()

    def select(self, target: Any, value: str) -> None:
        self.focus(target)
        self.page.keyboard.press("Home")
        for _ in range(MOST_TABS):
            if target.input_value() == value:
                return
            self.page.keyboard.press("ArrowDown")
        raise AssertionError(f"the arrow keys never chose {value!r} in {target}")

    def check(self, target: Any) -> None:
        if target.get_attribute("type") == "radio":
            group = f"input[type=radio][name='{target.get_attribute('name')}']"
            checked = self.page.locator(group + ":checked")
            self.focus(checked if checked.count() else self.page.locator(group).first)
            for _ in range(self.page.locator(group).count()):
                if target.evaluate(_IS_FOCUSED):
                    break
                self.page.keyboard.press("ArrowDown")
        else:
            self.focus(target)
        if not target.is_checked():
            self.page.keyboard.press("Space")
        assert target.is_checked()

    def activate(self, target: Any) -> None:
        """Enter on a link or a submit button; waits for the page it leads to."""
        self.focus(target)
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")

    @contextmanager
    def download(self, target: Any) -> Iterator[Any]:
        self.focus(target)
        with self.page.expect_download() as download:
            self.page.keyboard.press("Enter")
        yield download.value

    def upload(self, target: Any, files: list[Path]) -> None:
        self.focus(target)
        with self.page.expect_file_chooser() as chooser:
            self.page.keyboard.press("Space")
        chooser.value.set_files([str(f) for f in files])


DRIVERS = {"mouse": Driver, "keyboard": Keyboard}
