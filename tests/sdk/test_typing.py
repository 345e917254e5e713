"""mypy checks steps against what they declare: ``@step(context=..., result=...)`` against the function's
``data`` and ``result``, and ``next_step=`` against the context handed on and what the next step waits for.
mypy --strict runs on two small files: one whose types agree (no error) and one where each line marked
``# error`` is wrong (an error there, and nowhere else)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "typing_cases"


def test_mypy_rejects_mismatched_step_types_and_accepts_matching_ones(tmp_path: Path) -> None:
    files = [CASES / "steps_ok.py", CASES / "steps_bad.py"]
    res = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
                          str(tmp_path / "cache"), "--hide-error-context", "--no-error-summary",
                          *map(str, files)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 1, res.stdout + res.stderr  # 1: type errors found (2 would be a crash)
    errors: dict[str, set[int]] = {}
    for line in res.stdout.splitlines():
        found = re.match(r"(.+?):(\d+): error:", line)
        if found:
            errors.setdefault(Path(found.group(1)).name, set()).add(int(found.group(2)))
    marked = {n for n, text in enumerate((CASES / "steps_bad.py").read_text().splitlines(), start=1)
              if "  # error:" in text}
    assert len(marked) == 6
    assert errors == {"steps_bad.py": marked}, res.stdout
