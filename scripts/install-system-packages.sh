#!/usr/bin/env bash
# System packages the project needs: ffmpeg (clip generation, yt-dlp), a Go toolchain (to
# build FerretDB), PostgreSQL (FerretDB's faster backend, Airflow's metadata database), Redis
# (the Celery broker of the distributed stack), Chromium (the Goals page's browser test) and
# docker-compose (to validate docker-compose.yaml). Installs only what is missing; needs root (or sudo) for apt-get.
set -euo pipefail
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v ffprobe >/dev/null || need+=(ffmpeg)
command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || need+=(golang-go)
command -v docker-compose >/dev/null || need+=(docker-compose)  # validates docker-compose.yaml
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)  # FerretDB backend
command -v redis-server >/dev/null || need+=(redis-server)  # Celery broker
command -v chromium >/dev/null || need+=(chromium)  # the Goals page test drives it (Playwright)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-system-packages: installing ${need[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
