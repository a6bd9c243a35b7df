# syntax=docker/dockerfile:1
# Ward's container image: the static ward binary, a CA bundle and the
# passwd/group entries of its user, nothing else (no shell, no package
# manager), run as 65532. internal/deploytest builds the same image without a
# container engine (scripts/build-image.sh) and scans it with `ward image`.
#
# Base images are referenced by tag: pin them by digest in release CI
# (ward config: WARD-DF-005, LOW). There is no HEALTHCHECK (WARD-DF-023,
# LOW): the image has no shell or client to probe with, and Kubernetes uses
# the HTTP probes of deploy/helm/ward (/healthz, /readyz).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=none
RUN CGO_ENABLED=0 go build -buildvcs=false -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/ward ./cmd/ward

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY deploy/image/passwd /etc/passwd
COPY deploy/image/group /etc/group
COPY --from=build --chmod=0555 /out/ward /ward
USER 65532:65532
ENTRYPOINT ["/ward"]
