"""`userl config show` help text: each field gets its own comment, never its neighbour's."""

from __future__ import annotations

from dataclasses import dataclass

from userl.config.describe import field_comments


@dataclass
class Example:
    first: int = 1  # the first field's help
    # the second field's help, written above it
    # over two lines
    second: int = 2
    third: int = 3  # the third field's help
    # which goes on below it
    fourth: int = 4


def test_a_comment_block_above_a_field_belongs_to_that_field_alone() -> None:
    comments = field_comments(Example)
    assert comments["first"] == "the first field's help"
    assert comments["second"] == "the second field's help, written above it over two lines"
    assert comments["third"] == "the third field's help"
    assert comments["fourth"] == "which goes on below it"
