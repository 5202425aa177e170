"""The README is the front page: short, naming the book and explaining the seed notes where the
word first appears, the two Quick start commands, links that resolve on a code host, every
optional extra with its reason, and the benchmark headline `make bench` writes.  (Its python
blocks run with the site's pages: tests/docs/test_guides.py.)"""
import configparser
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def section(text, title):
    """The text under the ``## title`` heading, up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert match, f"the README has no '## {title}' section"
    return match.group(1)


def test_the_readme_is_a_front_page():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"{len(lines)} lines: the long sections belong in docs/guides/"


def test_quick_start_is_make_demo_and_make_test():
    block = re.search(r"```[a-z]*\n(.*?)```", section(README.read_text(encoding="utf-8"), "Quick start"), flags=re.S)
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert commands == ["make demo", "make test"]


def test_the_book_is_named_and_the_seeds_explained_where_first_met():
    text = README.read_text(encoding="utf-8")
    first = re.search(r"seed", text, flags=re.I).start()
    paragraph = " ".join(text[text.rfind("\n\n", 0, first):text.find("\n\n", first)].split())
    assert text.index("## Why") < first, "the word 'seed' appears before the Why section explains it"
    for needed in ("Koki Saito", "Deep Learning from Scratch", "ゼロから作るDeep Learning", "O'Reilly Japan",
                   "../shared/seeds/", "study notes"):
        assert needed in paragraph, f"the paragraph where 'seed' first appears does not say {needed!r}"


def test_relative_links_point_at_files_of_the_repository():
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert len(local) >= 10 and any(t.startswith("docs/guides/") for t in local)
    missing = sorted({t for t in local if not (ROOT / t).exists()})
    assert not missing, f"README links to files that do not exist: {missing}"


def test_every_optional_extra_is_listed_with_its_reason():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    extras = list(config["options.extras_require"])
    deps = section(README.read_text(encoding="utf-8"), "Dependencies")
    reasons = dict(re.findall(r"^- `([a-z0-9_-]+)`: (.+?)(?=^- |\Z)", deps, flags=re.S | re.M))
    assert len(extras) >= 5
    for extra in extras:
        assert extra in reasons, f"the README's Dependencies do not say why the extra '{extra}' exists"
        assert len(reasons[extra].split()) >= 6, f"the reason for '{extra}' is too short: {reasons[extra]!r}"
    assert not set(reasons) - set(extras), f"the README lists extras setup.cfg lacks: {set(reasons) - set(extras)}"


def test_readme_embeds_the_headline_of_the_latest_benchmarks():
    from benchmarks import report
    latest = (ROOT / "benchmarks" / "results" / "latest.md").read_text(encoding="utf-8")
    text = README.read_text(encoding="utf-8")
    block = text.split(report.README_START, 1)[1].split(report.README_END, 1)[0]
    assert block.strip() == report.readme_block(latest)  # `make bench` rewrites both together
    contenders = next(p for p in latest.split("\n\n") if p.startswith("| contender |"))
    assert contenders.strip() in block  # the first table, whole
    statuses = re.findall(r"^\|[^|\n]+\| (PASS|MISS|SKIP|INFO) \|", latest, flags=re.M)
    for status in ("PASS", "MISS"):
        assert f"{statuses.count(status)} {status}" in block
    assert "](docs/guides/performance.md)" in block
    cnn = [p for p in latest.split("\n\n") if p.startswith("| contender | 6a")]
    assert all(table.strip() in block for table in cnn)  # workload 6 against PyTorch, when the run has it
    without_cnn = "\n\n".join(p for p in latest.split("\n\n") if not p.startswith(("| contender | 6a", "6:")))
    assert "6a: step" not in report.readme_block(without_cnn)  # an older run's results still give a headline


def test_the_headline_refuses_a_results_file_it_cannot_read():
    from benchmarks import report
    latest = (ROOT / "benchmarks" / "results" / "latest.md").read_text(encoding="utf-8")
    without_targets = "\n\n".join(p for p in latest.split("\n\n") if not p.startswith("| target |"))
    with pytest.raises(ValueError, match="targets"):
        report.readme_block(without_targets)
    with pytest.raises(ValueError, match="unknown status"):
        report.readme_block(latest.replace("| PASS |", "| pass |", 1))
