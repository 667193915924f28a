"""The reader's outputs: HTML report with charts, Markdown, the workbook, the profile page, the
notebook, and the HTML as headless Chromium renders it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from selector.cli import main
from tests.conftest import SAMPLE_ARGS

ROOT = Path(__file__).resolve().parent.parent


def test_html_report_is_self_contained_with_every_part(sample_run: Path) -> None:
    html = (sample_run / "report.html").read_text()
    for heading in ("What was run", "Cohort 1: score 80", "Coverage of cohort 1", "Coverage matrix",
                    "Caseload and cohort 1 compared", "Reserves", "Ranked cohorts"):
        assert heading in html, heading
    assert html.count("<svg") == 3 and html.count("<figcaption>") == 3
    assert "<script" not in html and "src=\"http" not in html and "href=\"http" not in html
    assert '<th scope="col">' in html and "@media print" in html
    first = json.loads((sample_run / "run.json").read_text())["cohorts"][0]["members"]
    matrix = html[html.index("Coverage matrix"):html.index("Words used")]
    # The cohort comes first; the matrix and the glossary are folded away until opened.
    assert html.index("Cohort 1: score 80") < html.index("What was run")
    assert '<details><summary><h2>Coverage matrix</h2></summary>' in html
    glossary = html[html.index("Words used"):]
    assert "<td>SEMH</td><td>social, emotional and mental health</td>" in glossary
    for child in first:
        assert child in matrix
    assert "not covered" in matrix and "covers" in matrix


def test_markdown_links_the_charts_written_beside_it(sample_run: Path) -> None:
    md = (sample_run / "report.md").read_text()
    for name in ("chart_primary_need.svg", "chart_age_band.svg", "chart_setting_type.svg"):
        assert f"]({name})" in md
        assert (sample_run / name).read_text().startswith("<svg")
    assert "## Coverage matrix" in md


def test_charts_and_reports_are_byte_identical_for_a_seed(sample_run: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert CliRunner().invoke(main, ["select", *SAMPLE_ARGS, "--out", str(again), "--format", "xlsx,parquet",
                                     "--seed", "0"]).exit_code == 0
    for name in ("report.html", "report.md", "chart_primary_need.svg", "cohorts.xlsx"):
        assert (again / name).read_bytes() == (sample_run / name).read_bytes(), name


def test_workbook_sheets_headers_and_text_ids(sample_run: Path) -> None:
    book = load_workbook(sample_run / "cohorts.xlsx")
    record = json.loads((sample_run / "run.json").read_text())
    ranks = [c["rank"] for c in record["cohorts"]]
    assert book.sheetnames == [*[f"Cohort {r}" for r in ranks], "Contacts", "Coverage", "Run"]
    sheet = book["Cohort 1"]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["cohort", "slot", "child_id", "score"]
    assert all(c.font.bold for c in sheet[1])
    ids = [row[2].value for row in sheet.iter_rows(min_row=2)]
    assert ids == record["cohorts"][0]["members"] and all(isinstance(i, str) for i in ids)
    assert sheet.column_dimensions["C"].width >= len("child_id")
    # The sample's cohort 1 covers every age band: the Coverage sheet says "none" are left, as
    # a word an analyst reads, not a dash the formula escaping would show as '-.
    coverage = {row[0]: row[1:] for row in book["Coverage"].iter_rows(min_row=2, values_only=True)}
    assert coverage["age band"][2] == "none"
    quoted = [(sheet.title, cell.coordinate) for sheet in book.worksheets for row in sheet.iter_rows()
              for cell in row if str(cell.value).startswith("'")]
    assert not quoted, f"cells that show the formula escape's quote: {quoted}"


def test_each_sheet_prints_landscape_with_whose_row_it_is_on_every_page(sample_run: Path) -> None:
    # A cohort's 22 columns print over pages across: a page of practitioners' phones, or of the
    # reasons, still says whose they are (the columns up to the child's id, and the header, repeat).
    book = load_workbook(sample_run / "cohorts.xlsx")
    titles = {sheet.title: (sheet.page_setup.orientation, sheet.page_setup.paperSize, sheet.print_title_rows,
                            sheet.print_title_cols) for sheet in book.worksheets}
    assert titles["Cohort 1"] == ("landscape", 9, "$1:$1", "$A:$C")  # cohort, slot, child_id
    assert titles["Contacts"] == ("landscape", 9, "$1:$1", "$A:$D")  # call, for, slot, child_id
    assert titles["Run"] == ("landscape", 9, "$1:$1", None)


def test_profile_html_has_the_charts(tmp_path: Path) -> None:
    page = tmp_path / "profile.html"
    result = CliRunner().invoke(main, ["profile", *SAMPLE_ARGS, "--html", str(page)])
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert html.count("<svg") == 3 and "Hard rules" in html and "Count per value" in html


def test_walkthrough_notebook_runs_top_to_bottom() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(ROOT / "notebooks" / "walkthrough.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")  # stored clean
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    last = notebook.cells[-1]["outputs"][0]["data"]["text/plain"]
    assert "report.html" in last and "cohorts.xlsx" in last


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
def test_report_renders_in_headless_chromium(sample_run: Path) -> None:
    """The report as a browser shows it: a screenshot that is not blank, kept as an artifact."""
    import matplotlib.image

    shot = ROOT / "test-artifacts" / "report.png"
    shot.parent.mkdir(exist_ok=True)
    shot.unlink(missing_ok=True)
    profile = sample_run.parent / "chromium-profile"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={profile}", "--hide-scrollbars", "--window-size=1280,3600",
                    f"--screenshot={shot}", (sample_run / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    image = matplotlib.image.imread(shot)
    assert image.shape[0] >= 3000 and image.shape[1] >= 1200
    # Not blank: text, table borders and chart bars make the page far from uniform.
    assert image[..., :3].std() > 0.1


# An A4 page turned landscape, less the report's 12 mm margins, at the 96 px an inch a browser prints at.
A4_LANDSCAPE_PX = round((297 - 2 * 12) / 25.4 * 96)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
def test_the_printed_report_keeps_every_column_of_its_tables_on_the_page(sample_run: Path) -> None:
    """Printed for the tracking meetings' papers, the cohort's table ran 1,199 px wide on an A4
    portrait page of 718: services, locality, the practitioner and why each child was chosen were
    cut off. Printed, the report is landscape and its tables fit its width; its folded parts,
    which paper cannot unfold, were left off."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            tab = browser.new_page(viewport={"width": A4_LANDSCAPE_PX, "height": 800})
            tab.emulate_media(media="print")
            tab.goto((sample_run / "report.html").as_uri())
            widths = tab.evaluate("Array.from(document.querySelectorAll('table'), t => t.scrollWidth)")
            # What is folded away on screen (the coverage matrix, the codes in words) is on paper too.
            folded = tab.evaluate("Array.from(document.querySelectorAll('details table'), t => t.checkVisibility())")
            page_width = tab.evaluate("document.documentElement.scrollWidth")
            pdf = tab.pdf(prefer_css_page_size=True)
        finally:
            browser.close()
    assert len(widths) >= 8 and max(widths) <= A4_LANDSCAPE_PX and page_width <= A4_LANDSCAPE_PX, widths
    assert b"/MediaBox [0 0 841" in pdf  # landscape: 297 mm (842 pt) across
    assert folded == [True, True]


def test_age_bands_read_youngest_first(sample_run: Path) -> None:
    """Bands in numeric order (as text, 11-15 would come before 5-10)."""
    markdown = (sample_run / "report.md").read_text()
    coverage = next(line for line in markdown.splitlines() if line.startswith("| age band | "))
    assert "| 0-4, 5-10, 11-15, 16-19, 20-25 |" in coverage
    chart = (sample_run / "chart_age_band.svg").read_text()
    labels = [chart.index(f">{band}</text>") for band in ("0-4", "5-10", "11-15", "16-19", "20-25")]
    assert labels == sorted(labels)
    matrix = [line.split(" | ")[1] for line in markdown.splitlines() if line.startswith("| age band | ")
              and "weight" not in line and "%" not in line]
    assert matrix == sorted(matrix, key=lambda band: int(band.split("-")[0]))
    shares = [line.split(" | ")[1] for line in markdown.splitlines() if line.startswith("| age band | ")
              and "%" in line]  # the lottery's shares of the chances
    assert shares == ["0-4", "5-10", "11-15", "16-19", "20-25"]


def test_the_lottery_section_says_how_each_alternative_was_chosen() -> None:
    # Five cohorts asked for at most 3 shared: all four drawn; two drawn and two searched for
    # (the draws found no third); none drawn (with slack, say); one cohort only.
    from selector.report.chances import _alternatives_sentence
    from selector.solve.lottery import Chances

    def lottery(drawn: int) -> Chances:
        return Chances(child_ids=(), chances=(), types=(), optimum=80, threshold=80, slack_percent=0.0, drawn=(),
                       drawn_score=80, proved=False, complete=True, reproducible=True, levels=0, columns=1,
                       largest_without_slack=None, seconds=0.0, alternatives=(("K1",),) * drawn)

    rule = "sharing at most 3 children with cohort 1 and with every cohort before it"
    drawn_all = (f"Cohorts 2 to 5 were drawn from this lottery too, one after another, each {rule} (a draw "
                 "sharing more was drawn again), and each reaches the best score.")
    assert _alternatives_sentence(lottery(4), 5, 3) == drawn_all
    assert _alternatives_sentence(lottery(2), 5, 3) == (
        f"Cohorts 2 and 3 were drawn from this lottery too, one after another, each {rule} (a draw sharing more "
        f"was drawn again), and each reaches the best score. Cohorts 4 and 5 are each the best cohort {rule}, "
        "found by search: no draw shared few enough.")
    assert _alternatives_sentence(lottery(1), 3, 3).startswith("Cohort 2 was drawn from this lottery too")
    assert _alternatives_sentence(lottery(1), 3, 3).endswith(
        f"Cohort 3 is the best cohort {rule}, found by search: no draw shared few enough.")
    assert _alternatives_sentence(lottery(0), 5, 3) == (
        f"The ranked cohorts 2 onwards were not drawn: each is the best cohort {rule}, found by search.")
    assert _alternatives_sentence(lottery(0), 1, 3) == "No other cohort was asked for."


def test_a_practitioner_with_no_role_or_organisation_is_named_alone(tmp_path: Path) -> None:
    # Contacts with a name and an e-mail only (role and organisation are optional): the cohort's
    # table said "Name 4 (, )"; now the name alone, and the parts given when some are.
    rows = [("K1", 3, "ASD", "EHCP", "EARLY_YEARS"), ("K2", 7, "MLD", "EHCP", "MAINSTREAM"),
            ("K3", 12, "SEMH", "SEN_SUPPORT", "MAINSTREAM"), ("K4", 17, "SLCN", "SEN_SUPPORT", "AP"),
            ("K5", 21, "PD", "SEN_SUPPORT", "FE"), ("K6", 9, "HI", "ASSESSMENT", "MAINSTREAM")]
    (tmp_path / "c.csv").write_text("child_id,age,primary_need,plan_status,setting_type,lead_practitioner_id\n" + "".join(
        f"{c},{a},{n},{p},{s},P{i}\n" for i, (c, a, n, p, s) in enumerate(rows, start=1)))
    (tmp_path / "k.csv").write_text("practitioner_id,name,role,organisation,email\n" + "".join(
        f"P{i},Name {i},{'SENCO' if i == 1 else ''},,p{i}@x.example\n" for i in range(1, 7)))
    result = CliRunner().invoke(main, ["select", str(tmp_path / "c.csv"), "--contacts", str(tmp_path / "k.csv"),
                                       "--out", str(tmp_path / "run"), "--seed", "0", "--sets", "1"])
    assert result.exit_code == 0, result.output
    report = (tmp_path / "run" / "report.md").read_text()
    assert "| Name 1 (SENCO) |" in report and "| Name 2 |" in report and "(, )" not in report
    assert "(, )" not in (tmp_path / "run" / "report.html").read_text()


SEVEN = [("K1", 3, "ASD", "EHCP", "EARLY_YEARS"), ("K2", 7, "MLD", "EHCP", "MAINSTREAM"),
         ("K3", 12, "SEMH", "SEN_SUPPORT", "MAINSTREAM"), ("K4", 17, "SLCN", "SEN_SUPPORT", "AP"),
         ("K5", 21, "PD", "SEN_SUPPORT", "FE"), ("K6", 9, "HI", "ASSESSMENT", "MAINSTREAM"),
         ("K7", 10, "VI", "SEN_SUPPORT", "MAINSTREAM")]


@pytest.mark.parametrize(("overlap", "line", "sentence"), [
    # K4 is the only AP child and K1, K2 the only EHC plans, so every cohort holds K1, K2, K4 and
    # three of K3, K5, K6, K7 with another SEN support: 4 cohorts, any two sharing 5 children.
    # At most 3 shared: none but cohort 1 (the report said "No other cohort was asked for").
    ("3", ("Ranked alternatives (rank: score): none: no other cohort meets every rule sharing at most 3 children "
          "with each better-ranked one (4 asked for)"),
     ("No other cohort meets every rule sharing at most 3 children with cohort 1 and with every cohort before it: "
     "cohort 1 is the only one of the 5 asked for.")),
    # At most 5 shared: all 4 of them, and no fifth.
    ("5", "; no other cohort meets every rule sharing at most 5 children with each better-ranked one (4 asked for)",
     ("No other cohort meets every rule sharing at most 5 children with cohort 1 and with every cohort before it: "
     "4 of the 5 cohorts asked for exist.")),
])
def test_fewer_cohorts_than_asked_are_said_to_be_all_there_are(tmp_path: Path, overlap: str, line: str,
                                                                sentence: str) -> None:
    (tmp_path / "c.csv").write_text("child_id,age,primary_need,plan_status,setting_type,lead_practitioner_id\n" + "".join(
        f"{c},{a},{n},{p},{s},P{i}\n" for i, (c, a, n, p, s) in enumerate(SEVEN, start=1)))
    (tmp_path / "k.csv").write_text("practitioner_id,name,email\n" + "".join(
        f"P{i},Name {i},p{i}@x.example\n" for i in range(1, 8)))
    result = CliRunner().invoke(main, ["select", str(tmp_path / "c.csv"), "--contacts", str(tmp_path / "k.csv"),
                                       "--out", str(tmp_path / "run"), "--seed", "0", "--max-overlap", overlap])
    assert result.exit_code == 0, result.output
    said = [text for text in result.output.splitlines() if text.startswith("Ranked alternatives")]
    assert len(said) == 1 and said[0].endswith(line)
    report = (tmp_path / "run" / "report.md").read_text()
    assert sentence in report and "No other cohort was asked for" not in report
    assert len(json.loads((tmp_path / "run" / "run.json").read_text())["cohorts"]) == (1 if overlap == "3" else 4)


def test_fewer_cohorts_than_asked_after_a_rule_was_dropped_are_not_said_to_meet_every_rule(tmp_path: Path) -> None:
    # SEVEN as above (4 cohorts share 5 children each) with one more rule no child can meet (none
    # is in a special school), dropped by --relax: the other cohorts meet every rule not dropped.
    (tmp_path / "c.csv").write_text("child_id,age,primary_need,plan_status,setting_type,lead_practitioner_id\n" + "".join(
        f"{c},{a},{n},{p},{s},P{i}\n" for i, (c, a, n, p, s) in enumerate(SEVEN, start=1)))
    (tmp_path / "k.csv").write_text("practitioner_id,name,email\n" + "".join(
        f"P{i},Name {i},p{i}@x.example\n" for i in range(1, 8)))
    rules = CliRunner().invoke(main, ["default-rules"]).output
    (tmp_path / "r.toml").write_text(rules + '\n[[count]]\ncolumn = "setting_type"\nvalue = "SPECIAL"\nmin = 1\n'
                                     "priority = 5\n")
    result = CliRunner().invoke(main, ["select", str(tmp_path / "c.csv"), "--contacts", str(tmp_path / "k.csv"),
                                       "--rules", str(tmp_path / "r.toml"), "--out", str(tmp_path / "run"),
                                       "--seed", "0", "--max-overlap", "5", "--relax"])
    assert result.exit_code == 0, result.output
    assert "Rules dropped by --relax: at least 1 with setting_type SPECIAL" in result.output.splitlines()
    said = [text for text in result.output.splitlines() if text.startswith("Ranked alternatives")]
    assert len(said) == 1 and said[0].endswith(
        "; no other cohort meets every rule not dropped sharing at most 5 children with each better-ranked one "
        "(4 asked for)")
    report = (tmp_path / "run" / "report.md").read_text()
    assert ("No other cohort meets every rule not dropped sharing at most 5 children with cohort 1 and with every "
            "cohort before it: 4 of the 5 cohorts asked for exist.") in report
    assert "each slot's reserves can take it with every rule not dropped still met" in report
