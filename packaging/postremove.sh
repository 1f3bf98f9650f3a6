#!/bin/sh
# After a removal: systemd forgets the unit.
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi
