#!/bin/sh
# After an install or upgrade: systemd learns of the unit, and a running mock restarts on the new
# binary. The service is not enabled: `systemctl enable --now equalture-mock` does that.
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  systemctl try-restart equalture-mock.service >/dev/null 2>&1 || true
fi
