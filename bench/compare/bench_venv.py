"""Re-run the calling script inside the benchmark venv when this interpreter lacks its packages.

The venv is `${SIM2REAL_CACHE:-~/.cache/sim2real}/py-torch`, made by `bench/compare/setup.sh`.
Standard library only: it runs before the packages it checks for can be imported.
"""

import importlib
import os
import sys
from pathlib import Path


def ensure(modules: list[str], who: str) -> None:
    try:
        for m in modules:
            importlib.import_module(m)
    except ImportError:
        venv = Path(os.environ.get("SIM2REAL_CACHE", Path.home() / ".cache" / "sim2real")) / "py-torch"
        py = venv / "bin" / "python"
        # The venv's python may be a link to this very interpreter: compare prefixes, not paths.
        if py.exists() and Path(sys.prefix).resolve() != venv.resolve():
            os.execv(str(py), [str(py), *sys.argv])
        sys.exit(f"{who}: needs {', '.join(modules)}: run bench/compare/setup.sh (looked for {py})")
