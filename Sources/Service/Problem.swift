import HTTPTypes
import Hummingbird
import Ledger
import LedgerStore

/// An RFC 9457 problem: `application/problem+json` with `type`, `title`, `status`, `detail` and
/// `reason` (the ledger's refusal code, or the service's own for errors before the ledger).
struct Problem: Error, Sendable {
    var status: HTTPResponse.Status
    var reason: String
    var detail: String
    /// Extra members (`available_credits`, `field`).
    var extra: [JSONField] = []

    static func malformed(_ detail: String, field: String? = nil) -> Problem {
        Problem(status: .badRequest, reason: "malformed_request", detail: detail, extra: field.map { [JSONField("field", .string($0))] } ?? [])
    }
    static func unauthorized(_ detail: String) -> Problem { Problem(status: .unauthorized, reason: "unauthorized", detail: detail) }
    static func forbidden(_ detail: String, reason: String = "forbidden") -> Problem { Problem(status: .forbidden, reason: reason, detail: detail) }

    /// The HTTP status of a ledger refusal: who may act (403) is decided before whether there is
    /// money (402), because the ledger checks the identity first.
    static func status(of refusal: Refusal) -> HTTPResponse.Status {
        switch refusal {
        case .unknownPool, .unknownIdentity, .unknownHold, .unknownDelegation: .notFound
        case .identitySuspended, .identityRevoked, .notEntitled, .tierNotAllowed, .holdNotOwned, .delegationNotOwned,
             .delegationDepthExceeded: .forbidden
        case .insufficientFunds, .rateCapExceeded, .spendCapExceeded, .degrade, .throttled: .paymentRequired
        case .idempotencyKeyReused: .unprocessableContent
        case .duplicateName, .holdExpired, .holdSettled, .statusChangeNotAllowed, .delegationClosed: .conflict
        case .invalidArgument, .overflow: .badRequest
        case .timeWentBackwards: .internalServerError
        }
    }

    static func refused(_ refusal: Refusal) -> Problem {
        var extra: [JSONField] = []
        if case .insufficientFunds(let available) = refusal { extra.append(JSONField("available_credits", .string(Money.formatCredits(available)))) }
        return Problem(status: status(of: refusal), reason: refusal.code, detail: "the ledger refused the command: \(refusal.code)", extra: extra)
    }

    var json: String {
        var fields = [JSONField("type", .string("urn:burnrate:problem:\(reason)")),
                      JSONField("title", .string(status.reasonPhrase)),
                      JSONField("status", .number(String(status.code))),
                      JSONField("detail", .string(detail)),
                      JSONField("reason", .string(reason))] + extra
        fields.sort { $0.key < $1.key }
        return StrictJSON.serialise(.object(fields))
    }

    var response: Response {
        Response(status: status, headers: [.contentType: "application/problem+json"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}

extension HTTPResponse.Status {
    /// 402, which swift-http-types does not name: the ledger's answer to exhaustion.
    static let paymentRequired = HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required")
}
