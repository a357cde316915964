#!/bin/sh
# Install (or upgrade) the Inspector bundle this script sits in.
#
#   sudo ./install.sh                  system-wide: /opt/inspector, /usr/local/bin/inspector,
#                                      the desktop entry and icon under /usr/share
#   ./install.sh                       for this user: ~/.local/opt/inspector, ~/.local/bin
#   ./install.sh --prefix DIR [--bin DIR] [--share DIR]
#
# Each version goes to PREFIX/versions/<version>; PREFIX/current points at the active one and is
# switched in one rename, so an upgrade never leaves a half-copied installation in use. The
# previous version is kept (for going back: ./install.sh from its folder, or re-point current);
# older ones are removed. Settings, workspaces and logs live in the user's folders
# (`inspector paths`), never here: an upgrade keeps them, uninstall.sh leaves them unless asked.
set -eu

SOURCE=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ]; then
    PREFIX=/opt/inspector BIN=/usr/local/bin SHARE=/usr/share
else
    PREFIX="$HOME/.local/opt/inspector" BIN="$HOME/.local/bin" SHARE="${XDG_DATA_HOME:-$HOME/.local/share}"
fi
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX=$2; shift 2 ;;
        --bin) BIN=$2; shift 2 ;;
        --share) SHARE=$2; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

[ -x "$SOURCE/inspector" ] || { echo "install.sh: no inspector executable in $SOURCE" >&2; exit 1; }
VERSION=$("$SOURCE/inspector" --version | sed 's/^Inspector //')
case "$VERSION" in ''|*/*|*' '*) echo "install.sh: cannot read the bundle's version" >&2; exit 1 ;; esac

mkdir -p "$PREFIX/versions" "$BIN" "$SHARE/applications" "$SHARE/icons/hicolor/scalable/apps"
TARGET="$PREFIX/versions/$VERSION"
if [ "$SOURCE" != "$TARGET" ]; then
    STAGING="$PREFIX/versions/.$VERSION.installing"
    rm -rf "$STAGING"
    cp -a "$SOURCE" "$STAGING"          # a failed copy (a full disk) leaves current untouched
    rm -rf "$TARGET"
    mv "$STAGING" "$TARGET"
fi
PREVIOUS=$(readlink "$PREFIX/current" 2>/dev/null || true)
ln -sfn "versions/$VERSION" "$PREFIX/.current.new"
mv -T "$PREFIX/.current.new" "$PREFIX/current"

# Keep the active and the previous version; remove older ones.
for old in "$PREFIX"/versions/*; do
    [ -d "$old" ] || continue
    case "versions/$(basename "$old")" in
        "versions/$VERSION"|"$PREVIOUS") ;;
        *) rm -rf "$old" ;;
    esac
done

ln -sfn "$PREFIX/current/inspector" "$BIN/inspector"
cp "$PREFIX/current/share/inspector.svg" "$SHARE/icons/hicolor/scalable/apps/inspector.svg"
sed -e "s|@EXEC@|$BIN/inspector|g" -e "s|@ICON@|inspector|g" \
    "$PREFIX/current/share/inspector.desktop" > "$SHARE/applications/.inspector.desktop.new"
mv "$SHARE/applications/.inspector.desktop.new" "$SHARE/applications/inspector.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$SHARE/applications" || true

echo "Inspector $VERSION installed in $TARGET"
echo "  command:       $BIN/inspector"
echo "  desktop entry: $SHARE/applications/inspector.desktop"
[ -n "$PREVIOUS" ] && [ "$PREVIOUS" != "versions/$VERSION" ] && echo "  previous version kept: $PREFIX/$PREVIOUS"
echo "Check it with: $BIN/inspector self-test"
