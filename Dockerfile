# One image for every service of docker-compose.yml: web (daphne, not root), worker (Celery, root,
# privileged), and the one-shot migrate.

FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DEBUG=0
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 iptables iputils-ping procps \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --uid 1000 netdesigner
WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir -e .
COPY --from=frontend /src/frontend/dist /app/frontend/dist
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "netdesigner.asgi:application"]
