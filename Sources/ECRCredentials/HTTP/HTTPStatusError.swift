// An endpoint that is not an AWS API answered with an HTTP error status.

/// A non-2xx answer from an endpoint that speaks plain HTTP (the instance metadata service).
package struct HTTPStatusError: Error, Sendable, CustomStringConvertible, TransientFailure {
    /// The URL, without query.
    package var url: String
    /// The HTTP status.
    package var status: Int

    package init(url: String, status: Int) {
        self.url = url
        self.status = status
    }

    /// 429 and 5xx: the service is overloaded or failing for now.
    package var isTransient: Bool { status == 429 || (500...599).contains(status) }

    /// For example "http://169.254.169.254/latest/api/token answered HTTP 503".
    package var description: String { "\(url) answered HTTP \(status)" }
}
