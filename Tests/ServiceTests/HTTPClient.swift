import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOPosix

/// The tests' HTTP client: HTTP/1.1 over SwiftNIO against a real server on loopback, one
/// connection per request (`Connection: close`), so that a test of concurrent clients opens
/// concurrent connections and a killed server is an unanswered request, never a stale one.
/// Every exchange has a deadline: a server that stops answering fails the test instead of hanging it.
struct HTTPClient: Requester {
    let host: String
    let port: Int
    var timeout: Duration = .seconds(30)

    enum Failure: Error, CustomStringConvertible {
        case noResponse, timedOut
        var description: String { self == .noResponse ? "the connection closed before a response" : "no response within the deadline" }
    }

    func send(_ uri: String, _ method: HTTPRequest.Method, _ headers: HTTPFields, _ body: ByteBuffer?) async throws -> Reply {
        let host = self.host, port = self.port
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await Self.withDeadline(timeout, closing: channel.channel) {
            try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method.rawValue), uri: uri)
                head.headers.add(name: "Host", value: "\(host):\(port)")
                head.headers.add(name: "Connection", value: "close")
                for field in headers { head.headers.add(name: field.name.rawName, value: field.value) }
                if let body { head.headers.add(name: "Content-Length", value: String(body.readableBytes)) }
                // The whole request in one write: sent part by part, a server that has its answer
                // before the last part (it needs no `.end` after a Content-Length body, or it refuses
                // on the headers alone) may answer and close first, and writing the rest would fail
                // with "I/O on closed channel" though the answer had arrived (seen under load).
                var parts: [HTTPClientRequestPart] = [.head(head)]
                if let body, body.readableBytes > 0 { parts.append(.body(.byteBuffer(body))) }
                parts.append(.end(nil))
                do { try await outbound.write(contentsOf: parts) } catch let error as ChannelError where error == .ioOnClosedChannel || error == .alreadyClosed {
                    // Closed while the request was still going out (a refusal on the headers):
                    // its answer, if it sent one, is in what was read.
                }
                var status: HTTPResponse.Status?
                var fields = HTTPFields()
                var text = ByteBuffer()
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        status = HTTPResponse.Status(code: Int(h.status.code), reasonPhrase: h.status.reasonPhrase)
                        for (name, value) in h.headers { if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) } }
                    case .body(var b):
                        text.writeBuffer(&b)
                    case .end:
                        guard let status else { throw Failure.noResponse }
                        return Reply(status: status, headers: fields, text: String(buffer: text))
                    }
                }
                throw Failure.noResponse
            }
        }
    }

    /// Sends `bytes` as they are (no HTTP framing of ours) and returns everything the server wrote
    /// until it closed the connection or `quiet` passed without a byte.
    func raw(_ bytes: [UInt8], quiet: Duration = .seconds(2)) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let received = ReceivedBytes()
        do {
            try await Self.withDeadline(timeout, closing: channel.channel) {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(bytes: bytes))
                    // The server may keep the connection open after answering: stop once it is quiet.
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await var chunk in inbound { received.append(chunk.readBytes(length: chunk.readableBytes) ?? []) }
                        }
                        group.addTask {
                            var seen = -1
                            while seen != received.count { seen = received.count; try await Task.sleep(for: quiet) }
                            channel.channel.close(promise: nil)
                        }
                        _ = try await group.next()
                        group.cancelAll()
                    }
                }
            }
        } catch let error as ChannelError where error == .ioOnClosedChannel || error == .alreadyClosed {
            // Closed by the quiet timer while the write or the read was pending: what arrived is the answer.
        }
        return String(decoding: received.bytes, as: UTF8.self)
    }

    /// `work`, or `Failure.timedOut` (and the channel closed) once `deadline` has passed.
    static func withDeadline<T: Sendable>(_ deadline: Duration, closing channel: any Channel,
                                          _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask { try await Task.sleep(for: deadline); return nil }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                channel.close(promise: nil)
                throw Failure.timedOut
            }
            return result
        }
    }
}

import Synchronization

/// Bytes read by one task and counted by another.
final class ReceivedBytes: Sendable {
    private let storage = Mutex<[UInt8]>([])
    func append(_ more: [UInt8]) { storage.withLock { $0 += more } }
    var bytes: [UInt8] { storage.withLock { $0 } }
    var count: Int { storage.withLock { $0.count } }
}
