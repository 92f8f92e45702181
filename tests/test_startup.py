"""What a web process loads: every process imports the site's URLs (and through them every
view and service), so a heavy library imported there is memory each worker carries."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Imported only by the runs that use them: campaign detection (datasketch, which brings
# SciPy) and theme suggestions (scikit-learn, with SciPy and pandas).
HEAVY = ["datasketch", "scipy", "sklearn", "pandas"]


def test_a_web_process_does_not_load_the_analysis_libraries():
    script = (
        "import json, sys, django; django.setup(); import consult.urls; "
        f"print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "consult.settings", "DEBUG": "true"}

    result = subprocess.run(  # noqa: S603 - fixed command, our own interpreter
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
