"""Vendor GOV.UK Frontend's built assets into the service's static folder.

    python scripts/vendor_govuk_frontend.py            # the pinned version
    python scripts/vendor_govuk_frontend.py --check    # exit 1 if the vendored copy differs

Fetches the pinned ``govuk-frontend`` package with ``npm pack`` (the npm registry,
no CDN at run time), and copies its compiled CSS and JavaScript and its
package.json (version, MIT licence) into ``lscb_nb/service/static/govuk/``. The
GDS Transport font and the crown are left out: GOV.UK's terms keep them for
services on GOV.UK, and a partnership's service is not one;
``lscb_nb/service/static/lscb/service.css`` sets a system font.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "6.6.0"
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "lscb_nb" / "service" / "static" / "govuk"
FILES = {
    "package/dist/govuk/govuk-frontend.min.css": "govuk-frontend.min.css",
    "package/dist/govuk/govuk-frontend.min.js": "govuk-frontend.min.js",
    "package/package.json": "package.json",  # its version and licence (MIT)
}


def fetch(folder: Path) -> dict[str, bytes]:
    subprocess.run(
        ["npm", "pack", f"govuk-frontend@{VERSION}", "--silent"],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    with tarfile.open(folder / f"govuk-frontend-{VERSION}.tgz") as tar:
        return {out: tar.extractfile(member).read() for member, out in FILES.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = fetch(Path(tmp))
    files["VERSION"] = (VERSION + "\n").encode()
    if args.check:
        stale = [
            n for n, b in files.items() if not (OUT / n).exists() or (OUT / n).read_bytes() != b
        ]
        print("stale: " + ", ".join(stale) if stale else f"govuk-frontend {VERSION} is vendored")
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (OUT / name).write_bytes(data)
        print(f"{name}: {hashlib.sha256(data).hexdigest()[:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
