# gongkai: one image for the web server and the workers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    GONGKAI_DATA_DIR=/data
WORKDIR /app

# LibreOffice reads .doc/.wps/.rtf; python3-uno lets the warm converter drive it. OCR
# (rapidocr-onnxruntime) pulls in opencv-python, which links libGL and GLib.
# No recommends: they would add fonts and a desktop's worth of packages.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libreoffice-writer-nogui python3-uno \
    libgl1 libglib2.0-0 \
 && cd /tmp && apt-get download fonts-noto-cjk && dpkg -x fonts-noto-cjk_*.deb /opt/gongkai-fonts \
 && rm -f fonts-noto-cjk_*.deb && rm -rf /var/lib/apt/lists/*
# The CJK font of the public PDFs, unpacked beside the system's (PDFium reads /usr/share/fonts).
ENV GONGKAI_FONT_DIR=/opt/gongkai-fonts

COPY pyproject.toml README.md ./
COPY service ./service
COPY plugins ./plugins
COPY models ./models
RUN pip install --no-cache-dir . \
 && useradd --system --home /data gongkai && mkdir -p /data && chown gongkai /data \
 && chown -R gongkai /app/models
ENV GONGKAI_MODELS_DIR=/app/models

USER gongkai
VOLUME ["/data"]
ENTRYPOINT ["gongkai"]
CMD ["--help"]
