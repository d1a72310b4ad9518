import Hummingbird
import Ledger
import LedgerStore
import Prometheus

/// The service's Prometheus metrics (`GET /metrics`). They live in a registry of the service's
/// own, not in the process-wide MetricsSystem, so that each service (the tests run several in one
/// process) counts its own requests. Names:
///
/// - `burnrate_http_requests_total{route,method,status}`: requests answered, by route template
///   (`/v1/holds/{hold}/capture`; `unmatched` for paths no route serves) and status code;
/// - `burnrate_http_request_duration_seconds{route}`: a histogram of the time to answer;
/// - `burnrate_ledger_commits_total` and `burnrate_ledger_commit_batch_size`: the store's group
///   commits and the commands in each;
/// - `burnrate_pool_available_credits{pool}`: each pool's available credits when scraped.
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let commits: Counter
    let batchSizes: ValueHistogram

    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
    ]
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]

    init() {
        commits = registry.makeCounter(descriptor: Self.name("ledger_commits", "total", "Group commits of the ledger's journal."))
        batchSizes = registry.makeValueHistogram(
            descriptor: Self.name("ledger_commit_batch_size", "", "Commands made durable by one group commit."), buckets: Self.batchBuckets)
    }

    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "burnrate", metricName: metric, unitName: unit, helpText: help)
    }

    func recordCommit(commands: Int) {
        commits.increment()
        batchSizes.record(Double(commands))
    }

    func recordRequest(route: String, method: HTTPRequest.Method, status: HTTPResponse.Status, duration: Duration) {
        registry.makeCounter(descriptor: Self.name("http_requests", "total", "HTTP requests answered, by route template and status."),
                             labels: [("route", route), ("method", Self.methodLabel(method)), ("status", String(status.code))]).increment()
        registry.makeDurationHistogram(descriptor: Self.name("http_request_duration", "seconds", "Time to answer a request."),
                                       labels: [("route", route)], buckets: Self.latencyBuckets).record(duration)
    }

    /// A method as a label: the standard ones by name, anything else `other` (a client choosing
    /// methods must not be able to grow the registry without bound).
    static func methodLabel(_ method: HTTPRequest.Method) -> String {
        [.get, .post, .put, .delete, .patch, .head, .options].contains(method) ? method.rawValue : "other"
    }

    /// The exposition text, with every pool's available credits as of `ledger`.
    func exposition(_ ledger: Ledger) -> String {
        for index in 0..<ledger.poolCount {
            let pool = PoolID(Int32(index))
            guard let name = ledger.name(of: pool), let balance = ledger.balance(of: pool) else { continue }
            registry.makeGauge(descriptor: Self.name("pool_available", "credits", "A pool's available credits (total less held)."),
                               labels: [("pool", name)])
                .set(to: Double(balance.availableMicrocredits) / Double(Money.microcreditsPerCredit))
        }
        return registry.emitToString()
    }

    /// A route as the OpenAPI document writes it: `/v1/holds/:hold/capture` → `/v1/holds/{hold}/capture`.
    static func template(_ routerPath: String) -> String {
        routerPath.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
    }
}

/// The outermost middleware: counts every request by the route that answered it (`unmatched`
/// when none did), and turns the errors Hummingbird raises itself (no such route, no such method,
/// an unreadable request) into problems, so that every error the service sends is problem+json.
struct EdgeMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let reason = status == .notFound ? "no_such_route" : status == .methodNotAllowed ? "method_not_allowed" : "bad_request"
            response = Problem(status: status, reason: reason, detail: "\(request.method) \(OperationFieldsText.printable(request.uri.path)): \(status.reasonPhrase)").response
        }
        metrics.recordRequest(route: route(context), method: request.method, status: response.status, duration: .now - start)
        return response
    }

    func route(_ context: Context) -> String {
        guard let path = context.endpointPath, path != "NotFound" else { return "unmatched" }
        return ServiceMetrics.template(path)
    }
}
