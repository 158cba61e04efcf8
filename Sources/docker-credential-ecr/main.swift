// docker-credential-ecr: the docker credential helper for Amazon ECR.
import ECRCredentials

#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
// Every command exits 1 when its output could not be written, to a full disk or a closed pipe.
StandardStreams.reportBrokenPipes()
StandardStreams.failWhenBufferedOutputIsLost()

// The protocol actions (`get`, `store`, ...) run on every pull and build step, so they skip the
// argument parser and go straight to the library; everything else is for people.
if arguments.count == 1, let action = HelperAction(rawValue: arguments[0]) {
    ProtocolRun.run(action)
}
Command.main(arguments)
