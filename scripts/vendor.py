"""Copy the front-end files the pages use from node_modules into hospital/static/vendor.

Run after ``npm ci``. The vendor folder is generated and ignored by git.
"""
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "hospital" / "static" / "vendor"

FILES = {
    "htmx/htmx.min.js": "htmx.org/dist/htmx.min.js",
    "socket.io/socket.io.min.js": "socket.io-client/dist/socket.io.min.js",
    "pico/pico.min.css": "@picocss/pico/css/pico.min.css",
    "swagger-ui/swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui/swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "chart.js/chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
}


def main() -> int:
    missing = [src for src in FILES.values() if not (NODE / src).is_file()]
    if missing:
        print("missing from node_modules (run `npm ci`):", ", ".join(missing), file=sys.stderr)
        return 1
    for dest, src in FILES.items():
        target = VENDOR / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE / src, target)
    print(f"copied {len(FILES)} vendor files into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
