# syntax=docker/dockerfile:1

# Build a static binary: no cgo, so it runs on an image without libc.
FROM golang:1.26-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY bootstrap ./bootstrap
COPY migrations ./migrations
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/etalase ./bootstrap/cmd/etalase

# Run it as a non-root user on an image with nothing else in it.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/etalase /usr/local/bin/etalase
USER nonroot:nonroot
EXPOSE 8080
# /metrics, pprof, /healthz and /readyz listen on OPS_ADDR, loopback by
# default: the health check below runs inside the container, and nothing
# outside it reaches the profiles unless OPS_ADDR says so (e.g. :9090).
ENV HTTP_ADDR=:8080 OPS_ADDR=127.0.0.1:9090
# The image has no shell or curl: the binary probes its own /readyz.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/etalase", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/etalase"]
CMD ["api"]
