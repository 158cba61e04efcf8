// swift-tools-version:6.1
// docker-credential-ecr: Amazon ECR credentials for docker, nerdctl, podman and the kubelet.
import PackageDescription

let package = Package(
    name: "docker-credential-ecr",
    products: [
        .executable(name: "docker-credential-ecr", targets: ["docker-credential-ecr"]),
        .library(name: "ECRCredentials", targets: ["ECRCredentials"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        // 4.x: 3.x imports full Foundation (ICU), which costs milliseconds on every `get`.
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
    ],
    targets: [
        // libcurl, opened with dlopen on the network path only; the headers give the types.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("dl")]),
        // libsecret (and GLib under it), opened with dlopen on the keyring path only.
        .target(name: "CLibsecret", linkerSettings: [.linkedLibrary("dl")]),
        // C library functions defined locally so that the executables run on glibc 2.34.
        .target(name: "CGlibcCompat"),
        .target(
            name: "ECRCredentials",
            dependencies: [
                "CCurl",
                "CGlibcCompat",
                "CLibsecret",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "docker-credential-ecr",
            dependencies: [
                "ECRCredentials",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ECRCredentialsTests",
            dependencies: ["ECRCredentials"],
            exclude: ["Resources"]
        ),
    ]
)
