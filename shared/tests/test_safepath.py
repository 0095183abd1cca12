"""folio_core.safepath: nothing outside the root or excluded is ever opened, listed or read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from folio_core.safepath import FileTooLargeError, PathRefused, SafeRoot, split_relative

ESCAPES = [
    "../outside.txt",
    "../../etc/passwd",
    "a/../../outside.txt",
    "notes/../../outside.txt",
    "/etc/passwd",
    "//etc/passwd",
    "~/outside.txt",
    "..\\outside.txt",
    "notes\\..\\..\\outside.txt",
    "C:\\Windows\\win.ini",
    "notes/\x00../outside.txt",
    "notes.md\x00.txt",
    "．．/outside.txt",  # fullwidth full stops fold to '..'
    "notes/．．/．．/outside.txt",
    "‥/outside.txt",  # two-dot leader folds to '..'
    "notes/\u2025/outside.txt",
    "a／../outside.txt",  # fullwidth solidus folds to '/'
    ".",
    "..",
    "./notes.md",
    "notes//notes.md",
    ".git/config",
    ".env",
    "notes/.hidden.md",
    "x" * 2000,
    "/".join(["a"] * 40),
    "notes/\n../x",
]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "plan.md").write_text("plan")
    (root / "readme.txt").write_text("hello")
    (root / "build").mkdir()
    (root / "build" / "out.txt").write_text("generated")
    (root / "draft.tmp").write_text("scratch")
    (root / ".gitignore").write_text("build/\n*.tmp\n")
    (root / "notes" / ".gitignore").write_text("secret-*.md\n")
    (root / "notes" / "secret-salary.md").write_text("ignored")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]")
    (root / ".env").write_text("TOKEN=x")
    (root / "prod.env").write_text("TOKEN=y")
    (root / "notes" / ".hidden.md").write_text("hidden")
    outside = tmp_path / "outside.txt"
    outside.write_text("OUTSIDE")
    # a sibling whose name starts with the root's name (CVE-2025-53110's shape)
    sibling = tmp_path / "docs-private"
    sibling.mkdir()
    (sibling / "salary.md").write_text("OUTSIDE")
    (root / "link-out.txt").symlink_to(outside)
    (root / "link-dir").symlink_to(tmp_path)
    (root / "link-dangling.txt").symlink_to(tmp_path / "nothing-here")
    (root / "link-chain.txt").symlink_to(root / "link-out.txt")
    (root / "link-inside.txt").symlink_to(root / "readme.txt")
    (root / "link-sibling").symlink_to(sibling)
    os.mkfifo(root / "pipe.txt")
    return root


def _reads(root: SafeRoot, path: str) -> bytes:
    return root.read_file(split_relative(path), 1 << 20)[0]


@pytest.mark.parametrize("path", ESCAPES)
def test_escaping_paths_are_refused_before_anything_is_opened(path: str) -> None:
    with pytest.raises(PathRefused):
        split_relative(path)


@pytest.mark.parametrize(
    "path",
    [
        "link-out.txt",
        "link-dir/outside.txt",
        "link-dangling.txt",
        "link-chain.txt",
        "link-inside.txt",  # links are not followed even when they stay inside
        "link-sibling/salary.md",
        "../docs-private/salary.md",
        "pipe.txt",
        "notes",
        "missing.md",
        "notes/missing/deeper.md",
        "readme.txt/child",
    ],
)
def test_links_special_files_and_missing_entries_get_the_same_refusal(tree: Path, path: str) -> None:
    root = SafeRoot(tree)
    with pytest.raises(PathRefused) as caught:
        parts = split_relative(path)
        _reads(root, path) if parts else None
    assert str(caught.value) == "refused"  # one refusal, never a path


def test_regular_files_inside_are_read(tree: Path) -> None:
    root = SafeRoot(tree)
    assert _reads(root, "notes/plan.md") == b"plan"
    assert _reads(root, "readme.txt") == b"hello"
    assert split_relative("notes/") == ("notes", "plan.md")[:1]
    assert split_relative("") == ()


def test_excluded_entries_are_not_listed_and_are_refused_by_check(tree: Path) -> None:
    root = SafeRoot(tree)
    listed = {e.path for e in root.walk()}
    assert listed == {"notes/plan.md", "readme.txt"}
    assert {e.path for e in root.listdir(())} == {"notes", "readme.txt"}
    for parts, is_dir in [
        (("build", "out.txt"), False),
        (("build",), True),
        (("draft.tmp",), False),
        (("notes", "secret-salary.md"), False),
        (("prod.env",), False),
        (("notes", ".hidden.md"), False),
    ]:
        assert root.excluded(parts, is_dir=is_dir), parts
        with pytest.raises(PathRefused):
            root.check(parts, is_dir=is_dir)
    assert not root.excluded(("notes", "plan.md"), is_dir=False)


def test_a_gitignore_edit_takes_effect_at_once(tree: Path) -> None:
    root = SafeRoot(tree)
    assert not root.excluded(("readme.txt",), is_dir=False)
    (tree / ".gitignore").write_text("build/\n*.tmp\nreadme.txt\n")
    assert root.excluded(("readme.txt",), is_dir=False)


def test_a_directory_swapped_for_a_link_is_refused(tree: Path, tmp_path: Path) -> None:
    root = SafeRoot(tree)
    assert _reads(root, "notes/plan.md") == b"plan"
    (tree / "notes").rename(tmp_path / "moved-notes")
    (tree / "notes").symlink_to(tmp_path / "moved-notes")
    with pytest.raises(PathRefused):
        _reads(root, "notes/plan.md")
    assert "notes/plan.md" not in {e.path for e in root.walk()}


def test_a_file_replaced_after_opening_is_not_what_gets_read(tree: Path, tmp_path: Path) -> None:
    root = SafeRoot(tree)
    fd, _ = root.open_file(("readme.txt",))
    try:
        (tree / "readme.txt").unlink()
        (tree / "readme.txt").symlink_to(tmp_path / "outside.txt")
        assert os.read(fd, 100) == b"hello"
    finally:
        os.close(fd)
    with pytest.raises(PathRefused):
        _reads(root, "readme.txt")


def test_size_limit_is_checked_before_reading(tree: Path) -> None:
    big = tree / "huge.txt"
    with big.open("wb") as f:
        f.truncate(2 * 1024**3)  # a sparse 2 GB file: nothing is read
    with pytest.raises(FileTooLargeError) as caught:
        SafeRoot(tree).read_file(("huge.txt",), 10 * 1024**2)
    assert caught.value.size == 2 * 1024**3
