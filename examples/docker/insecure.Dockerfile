# An intentionally insecure Dockerfile: every line here is a Ward finding.
# Scan it with: ward config examples/docker/insecure.Dockerfile
FROM ubuntu:latest
MAINTAINER ops@example.com

ARG NPM_TOKEN
ENV DB_PASSWORD=changeme

RUN apt-get update
RUN apt-get install -y curl openssh-server sudo
RUN curl -fsSL https://deb.nodesource.com/setup_20.x | bash -
ADD https://example.com/agent.tar.gz /opt/
ADD config.tar.gz /etc/app/
COPY id_rsa /root/.ssh/id_rsa
COPY . /app
RUN chown -R www-data:www-data /app && chmod -R 777 /app

WORKDIR app
EXPOSE 22 8080
ENTRYPOINT /app/start.sh
