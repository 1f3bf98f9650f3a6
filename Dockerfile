# equalture-mock: a static binary on scratch, run as a non-root user.
#
#   docker build -t equalture-mock .                        # the mock (default target, ~15 MB)
#   docker build --target contract -t equalture-mock:contract .   # the mock + the contract suite binary
#
# No Docker engine? scripts/image-test builds this same file with buildah.

ARG GO_IMAGE=docker.io/library/golang:1.26

FROM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0
# The module proxy can be overridden for builds behind a mirror.
ARG GOPROXY
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/equalture/equalture-mock/internal/version.Version=${VERSION} -X github.com/equalture/equalture-mock/internal/version.Commit=${COMMIT}" \
      -o /out/usr/local/bin/equalture-mock ./cmd/equalture-mock \
 && go test -c -trimpath -buildvcs=false -tags nomock -ldflags "-s -w" \
      -o /out-contract/usr/local/bin/contract.test ./contract \
 && mkdir -p /out/etc/ssl/certs \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > /out/etc/passwd \
 && echo 'nonroot:x:65532:' > /out/etc/group

# The mock plus the standalone contract suite: `docker run IMAGE contract --base-url ...`.
FROM scratch AS contract
COPY --from=build /out/ /
COPY --from=build /out-contract/ /
USER 65532:65532
EXPOSE 8080
ENV PATH=/usr/local/bin EQUALTURE_MOCK_ADDR=:8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s CMD ["/usr/local/bin/equalture-mock", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/equalture-mock"]
CMD ["contract", "--help"]

# The mock (default target). Spec and fixtures are embedded; mount a directory and set
# EQUALTURE_MOCK_FIXTURES to replace the fixtures.
FROM scratch AS mock
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="equalture-mock" \
      org.opencontainers.image.description="Mock server and contract-testing toolkit for the Equalture Open Assessment API" \
      org.opencontainers.image.source="https://github.com/equalture/equalture-mock" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
COPY --from=build /out/ /
USER 65532:65532
EXPOSE 8080
ENV PATH=/usr/local/bin EQUALTURE_MOCK_ADDR=:8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s CMD ["/usr/local/bin/equalture-mock", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/equalture-mock"]
CMD ["serve"]
