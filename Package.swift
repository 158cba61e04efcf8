// swift-tools-version:6.1
// docker-credential-ecr: Amazon ECR credentials for docker, nerdctl, podman and the kubelet.
import PackageDescription

// The git commit `version` names. scripts/build-release sets DOCKER_CREDENTIAL_ECR_COMMIT; a plain
// `swift build` does not, and `version` then says the commit is unknown. Only letters, digits and
// '-' are kept, since the value becomes a C string literal.
let buildCommit = String((Context.environment["DOCKER_CREDENTIAL_ECR_COMMIT"] ?? "")
    .filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }.prefix(64))

let package = Package(
    name: "docker-credential-ecr",
    products: [
        .executable(name: "docker-credential-ecr", targets: ["docker-credential-ecr"]),
        .executable(name: "ecr-credential-provider", targets: ["ecr-credential-provider"]),
        .library(name: "ECRCredentials", targets: ["ECRCredentials"]),
    ],
    dependencies: [
        // Tests only: BoringSSL's SHA-256, SHA-1 and HMAC, against which the library's own
        // (Support/Digest.swift) are checked.
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
    ],
    targets: [
        // libcurl, opened with dlopen on the network path only; the headers give the types.
        // dlopen and dlsym for the two shims below.
        .target(name: "CDynamicLibrary", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CCurl", dependencies: ["CDynamicLibrary"]),
        // libsecret (and GLib under it), opened with dlopen on the keyring path only.
        .target(name: "CLibsecret", dependencies: ["CDynamicLibrary"]),
        // libyaml, opened with dlopen only when ecr-credential-provider doctor reads a YAML config.
        .target(name: "CYAML", dependencies: ["CDynamicLibrary"]),
        // The kernel key retention service's system calls (add_key, keyctl): no library at all.
        .target(name: "CKernelKeyring"),
        // renameat2's exchange and no-replace modes, and the file-system user (setfsuid): configure.
        .target(name: "CFileSystem"),
        // The build facts `version` prints (the git commit).
        .target(name: "CBuildInfo", cSettings: [.define("CBUILDINFO_COMMIT", to: "\"\(buildCommit)\"")]),
        // C library functions defined locally so that the executables run on glibc 2.34.
        .target(name: "CGlibcCompat"),
        .target(
            name: "ECRCredentials",
            dependencies: [
                "CBuildInfo",
                "CCurl",
                "CFileSystem",
                "CGlibcCompat",
                "CKernelKeyring",
                "CLibsecret",
                "CYAML",
            ]
        ),
        // The executables' command line for the static Swift runtime, taken from glibc at start
        // instead of searched for in /proc/self/maps (see command_line.c).
        .target(name: "CStartUp"),
        .executableTarget(
            name: "docker-credential-ecr",
            dependencies: ["ECRCredentials", "CStartUp"]
        ),
        .executableTarget(
            name: "ecr-credential-provider",
            dependencies: ["ECRCredentials", "CStartUp"]
        ),
        .testTarget(
            name: "ECRCredentialsTests",
            dependencies: ["ECRCredentials", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Resources"]
        ),
    ]
)
