#!/bin/sh
# Remove an Inspector installation made by install.sh.
#
#   sudo ./uninstall.sh | ./uninstall.sh        the same defaults as install.sh
#   ./uninstall.sh --prefix DIR [--bin DIR] [--share DIR]
#   ./uninstall.sh --purge [--yes]              also delete this user's settings, logs and the
#                                               workspaces kept in the user's data folder
#
# Without --purge the user's folders (`inspector paths`) stay: settings, logs, the demo and any
# workspace created there. Workspaces created elsewhere are never touched.
set -eu

if [ "$(id -u)" = 0 ]; then
    PREFIX=/opt/inspector BIN=/usr/local/bin SHARE=/usr/share
else
    PREFIX="$HOME/.local/opt/inspector" BIN="$HOME/.local/bin" SHARE="${XDG_DATA_HOME:-$HOME/.local/share}"
fi
PURGE=0 YES=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX=$2; shift 2 ;;
        --bin) BIN=$2; shift 2 ;;
        --share) SHARE=$2; shift 2 ;;
        --purge) PURGE=1; shift ;;
        --yes) YES=1; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "uninstall.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

EXE="$PREFIX/current/inspector"
[ -x "$EXE" ] || { echo "uninstall.sh: no installation in $PREFIX" >&2; exit 1; }

if [ "$PURGE" = 1 ]; then
    # The application says where its folders are (the same rules it runs by).
    eval "$("$EXE" paths --shell)"
    echo "--purge deletes:"
    echo "  $INSPECTOR_CONFIG_PATH"
    echo "  $INSPECTOR_DATA_PATH (logs, and the workspaces in it: the demo and any made there)"
    if [ "$YES" != 1 ]; then
        printf "Type 'delete' to go on: "
        read -r answer
        [ "$answer" = delete ] || { echo "Nothing was removed."; exit 1; }
    fi
fi

# Only remove the command and desktop entry if they are ours.
if [ -L "$BIN/inspector" ] && [ "$(readlink "$BIN/inspector")" = "$PREFIX/current/inspector" ]; then
    rm -f "$BIN/inspector"
fi
if grep -qs "Exec=$BIN/inspector" "$SHARE/applications/inspector.desktop"; then
    rm -f "$SHARE/applications/inspector.desktop" "$SHARE/icons/hicolor/scalable/apps/inspector.svg"
fi
rm -rf "$PREFIX"
echo "Inspector removed from $PREFIX"

if [ "$PURGE" = 1 ]; then
    rm -rf "$INSPECTOR_CONFIG_PATH" "$INSPECTOR_DATA_PATH"
    echo "Settings, logs and the data folder were deleted."
else
    echo "Settings, logs and workspaces were kept (see 'inspector paths' after a reinstall)."
fi
