#!/bin/sh
# Before a removal (not an upgrade: deb says "upgrade", rpm passes 1): stop the mock.
case "$1" in
  remove | purge | 0)
    if [ -d /run/systemd/system ]; then
      systemctl stop equalture-mock.service >/dev/null 2>&1 || true
    fi
    ;;
esac
