#!/usr/bin/env bash
# Installs the system packages `make demo` and `make test` need, only when missing.
#   demo: Mesa EGL + GL drivers (headless OpenGL), fonts, fontconfig
#   test: the above, plus Xvfb for the windowed-renderer test, chromium for the
#         tablet page's browser test (Playwright drives Debian's chromium; no browser download),
#         and Xorg's dummy driver, xrandr, xset, xwininfo and libXfixes (cursor check) for the
#         fullscreen tests on two monitors
#   both: python3-venv when this Python cannot create virtual environments
# Fonts: DejaVu Sans draws Latin, Greek, Cyrillic, Arabic and Hebrew; social posts
# also hold CJK (Droid Sans Fallback, 7 MB, much smaller than Noto CJK's 90 MB),
# the scripts of India, South-East Asia, the Caucasus and Ethiopia (fonts-noto-core),
# colour emoji (Noto Color Emoji) and symbols (Symbola, also the monochrome emoji
# fallback). Tests compare shaped text with Pillow's Raqm layout (libraqm0).
set -euo pipefail

want=(libegl1 libegl-mesa0 libgl1-mesa-dri libgl1 fontconfig
      fonts-dejavu-core fonts-droid-fallback fonts-symbola fonts-noto-core
      fonts-noto-color-emoji)
if [ "${1:-}" = "test" ]; then
  want+=(xvfb xauth libraqm0 chromium xserver-xorg-core xserver-xorg-video-dummy
         x11-xserver-utils x11-utils libxfixes3)
fi
# Debian splits venv out of python3; needed before `make` can create .venv.
if ! "${PYTHON:-python3}" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  want+=(python3-venv)
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "Not a Debian-based system: make sure these (or equivalents) are installed: ${want[*]}" >&2
  exit 0
fi

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing system packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "Need root to install: ${missing[*]} (run: apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
log=$(mktemp)
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
       $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "Installing ${missing[*]} failed (log above)." >&2
  exit 1
fi
rm -f "$log"
