# equalture-mock: a static binary on scratch, run as a non-root user. The vendor contract, the control
# contract and the default fixtures are embedded in the binary; to replace the fixtures, mount a
# directory and point EQUALTURE_MOCK_FIXTURES at it. To keep the state across restarts, mount a
# volume at /data (empty, owned by the image's user 65532) and set EQUALTURE_MOCK_DATA_DIR=/data.
#
#   docker build -t equalture-mock .                              # the mock (default target, ~14 MiB)
#   docker build --target contract -t equalture-mock:contract .   # the mock + the contract suite binary
#
# `equalture-mock version` says what it was built from when given the build arguments
# scripts/buildinfo prints (VERSION, COMMIT, DATE), e.g.
#   docker build $(scripts/buildinfo build-args) -t equalture-mock .
# Without them it says "dev". The released images (ghcr.io/equalture/equalture-mock and
# ghcr.io/equalture/equalture-mock-contract) are built by make release from packaging/release.Containerfile,
# which puts the same files and settings around the release binaries: keep the two in step
# (scripts/image-test checks both the same way).
#
# No Docker engine? scripts/image-test builds this same file with buildah and tests the result.

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
ARG COMMIT=
ARG DATE=
# The mock, and the standalone Ginkgo contract suite. -tags nomock leaves the suite's in-process mock
# out: in an image it always runs against a target (--base-url).
RUN go build -trimpath -buildvcs=false \
      -ldflags "-s -w -buildid= -X github.com/equalture/equalture-mock/internal/version.Version=${VERSION} -X github.com/equalture/equalture-mock/internal/version.Commit=${COMMIT} -X github.com/equalture/equalture-mock/internal/version.Date=${DATE}" \
      -o /out/usr/local/bin/equalture-mock ./cmd/equalture-mock \
 && go test -c -trimpath -buildvcs=false -tags nomock -ldflags "-s -w -buildid=" -o /contract.test ./contract \
 && mkdir -p /out/etc/ssl/certs \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > /out/etc/passwd \
 && echo 'nonroot:x:65532:' > /out/etc/group \
 && mkdir -p /volumes && mkdir -m 0700 /volumes/data

# What both images share: the mock, CA certificates and a non-root user.
FROM scratch AS runtime
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
LABEL org.opencontainers.image.source="https://github.com/equalture/equalture-mock" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${DATE}"
COPY --from=build /out/ /
# Where a volume for --data-dir goes: a new named volume takes this directory's owner, so the
# image's user can write to it.
COPY --from=build --chown=65532:65532 /volumes/ /
USER 65532:65532
EXPOSE 8080
# Inside a container the mock listens on every interface (the binary alone defaults to 127.0.0.1:8080):
# publish the port with care, and set EQUALTURE_MOCK_ADMIN_TOKEN where others can reach it.
ENV PATH=/usr/local/bin EQUALTURE_MOCK_ADDR=:8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s CMD ["/usr/local/bin/equalture-mock", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/equalture-mock"]
CMD ["serve"]

# The mock plus the contract suite, which `equalture-mock contract` finds next to itself:
#   docker run IMAGE contract --base-url URL --client-id ID --client-secret SECRET
FROM runtime AS contract
LABEL org.opencontainers.image.title="equalture-mock-contract" \
      org.opencontainers.image.description="equalture-mock with the Ginkgo contract suite of the Equalture Open Assessment API"
COPY --from=build /contract.test /usr/local/bin/contract.test

# The mock (the default target: keep it last).
FROM runtime AS mock
LABEL org.opencontainers.image.title="equalture-mock" \
      org.opencontainers.image.description="Mock server and contract-testing toolkit for the Equalture Open Assessment API"
