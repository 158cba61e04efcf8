// swift-tools-version:6.1
// libFuzzer targets for docker-credential-ecr's parsers and decoders, outside the normal build.
//
// Build and run them with `scripts/fuzz` from the repository root. The targets reach internal
// parsers through `@testable import`, so the library is compiled with `-enable-testing`; every
// Swift module is instrumented with `swiftc -sanitize=fuzzer,address`.
import PackageDescription

let package = Package(
    name: "ecr-fuzz",
    dependencies: [
        .package(name: "docker-credential-ecr", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "ecr-fuzz",
            dependencies: [.product(name: "ECRCredentials", package: "docker-credential-ecr")],
            path: "Sources/ECRFuzz",
            // libFuzzer supplies main(); the Swift file only defines LLVMFuzzerTestOneInput.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
