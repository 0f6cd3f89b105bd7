import DriftboxTestSupport
import Foundation
import Testing

@testable import Gateway

/// Upstream faults over HTTPS: the scripted chat server (a Python process, its TLS done by
/// OpenSSL) with a certificate signed by a certificate authority made at test time, which the
/// gateway is given as its CA bundle. The server drops connections without ending TLS, so these
/// cases see what a real provider's abrupt close looks like, not only a clean one.
@Suite("Gateway: upstream faults over TLS", .serialized)
struct TLSFaultTests {
    /// The scripted server over HTTPS in a temporary folder, and an upstream for it.
    static func start(_ script: [[String: Any]], timeouts: UpstreamTimeouts = UpstreamTimeouts(connect: .seconds(10), firstByte: .seconds(60), total: .seconds(120)),
                      retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(100), seed: 9))
        throws -> (ScriptedChatServer, Upstream, URL) {
        let folder = try temporaryFolder("gateway-tls-fault")
        let certificates = try ScriptedChatServer.makeCertificates(in: folder.path)
        let text = String(decoding: try JSONSerialization.data(withJSONObject: script, options: [.sortedKeys]), as: UTF8.self)
        let server = try ScriptedChatServer(script: text, in: folder.path, tls: (certificates.certificate, certificates.key))
        let upstream = Upstream(name: "up", baseURL: server.baseURL, modelProtocol: .openAIChat, keyVariable: "TEST_MODEL_KEY", maxConcurrent: 4,
                                timeouts: timeouts, retry: retry, caBundlePath: certificates.caBundle)
        return (server, upstream, folder)
    }

    static func request(_ prompt: String, stream: Bool) -> String {
        #"{"model":"scripted-model","stream":\#(stream),"messages":[{"role":"user","content":"\#(prompt)"}]}"#
    }

    @Test("a stream dropped mid-answer over TLS ends the client's stream with the gateway's error event; nothing is retried")
    func streamDropped() async throws {
        let (server, upstream, folder) = try Self.start([["content": "an answer that is cut in the middle of its words", "disconnect_mid_stream": true],
                                                         ["content": "never reached"]])
        defer { server.stop(); try? FileManager.default.removeItem(at: folder) }
        let store = try temporaryStore()
        let harness = try await Harness.start(upstream, record: store)
        let answer = try await harness.post("/v1/chat/completions", Self.request("hello", stream: true))
        let failure = await harness.event(.upstreamError)
        await harness.stop()
        #expect(answer.status == 200)
        #expect(answer.body.hasPrefix("data: {"), "\(answer.body)")
        #expect(answer.body.contains("event: error\ndata: ") && answer.body.contains("mid-stream after"), "\(answer.body)")
        #expect(!answer.body.contains("[DONE]"))
        #expect(server.requests.count == 1, "events were passed on: no retry")
        #expect(!harness.events.all.contains { $0.kind == .retry })
        #expect(failure?.detail.contains("mid-stream") == true, "\(failure?.detail ?? "")")
        let exchange = try store.exchange(try #require(try store.exchanges(episode: "ep-1", step: 0).first))
        #expect(exchange.attempts == 1 && exchange.response.status == 200)
        #expect(exchange.error?.contains("mid-stream") == true, "\(exchange.error ?? "")")
        #expect(exchange.error?.contains("certificate") == false, "a dropped connection is not a certificate problem: \(exchange.error ?? "")")
        #expect(exchange.response.events?.last?.hasPrefix("event: error\n") == true)
        #expect(exchange.response.bytes == Array(answer.body.utf8), "the record holds what the client got")
    }

    @Test("a plain answer cut after its head over TLS is retried; the next answer is the client's")
    func plainCutRetried() async throws {
        let (server, upstream, folder) = try Self.start([["content": "a long answer that is cut in the middle", "disconnect_mid_stream": true],
                                                         ["content": "Recovered."]])
        defer { server.stop(); try? FileManager.default.removeItem(at: folder) }
        let store = try temporaryStore()
        let harness = try await Harness.start(upstream, record: store)
        let answer = try await harness.post("/v1/chat/completions", Self.request("hello", stream: false))
        let retries = harness.events.all.filter { $0.kind == .retry }
        await harness.stop()
        #expect(answer.status == 200)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
        let message = ((parsed["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
        #expect(message == "Recovered.")
        #expect(server.requests.count == 2)
        #expect(retries.count == 1 && retries.first?.detail.contains("while sending its answer") == true, "\(retries.map(\.detail))")
        let exchange = try store.exchange(try #require(try store.exchanges(episode: "ep-1", step: 0).first))
        #expect(exchange.attempts == 2 && exchange.response.status == 200 && exchange.error == nil)
        #expect(exchange.usage?.input == 100 && exchange.usage?.output == 20)
    }

    @Test("an unframed plain answer cut by a peer that never ends TLS is a connection failure, retried; not a certificate problem")
    func unframedCutWithoutCloseNotify() async throws {
        let (server, upstream, folder) = try Self.start([["content": "a long answer that is cut in the middle", "disconnect_mid_stream": true, "unframed": true],
                                                         ["content": "Recovered."]])
        defer { server.stop(); try? FileManager.default.removeItem(at: folder) }
        let store = try temporaryStore()
        let harness = try await Harness.start(upstream, record: store)
        let answer = try await harness.post("/v1/chat/completions", Self.request("hello", stream: false))
        let retries = harness.events.all.filter { $0.kind == .retry }
        await harness.stop()
        #expect(answer.status == 200 && answer.body.contains("Recovered."), "\(answer.body)")
        #expect(server.requests.count == 2)
        #expect(retries.count == 1 && retries.first?.detail.contains("without ending TLS while sending its answer") == true, "\(retries.map(\.detail))")
        let exchange = try store.exchange(try #require(try store.exchanges(episode: "ep-1", step: 0).first))
        #expect(exchange.attempts == 2 && exchange.response.status == 200 && exchange.error == nil)
    }

    @Test("a plain answer cut after its head on every attempt over TLS is the client's 502 once the attempts run out")
    func plainCutEveryTime() async throws {
        let (server, upstream, folder) = try Self.start([["content": "a long answer that is cut in the middle", "disconnect_mid_stream": true]])
        defer { server.stop(); try? FileManager.default.removeItem(at: folder) }
        let store = try temporaryStore()
        let harness = try await Harness.start(upstream, record: store)
        let answer = try await harness.post("/v1/chat/completions", Self.request("hello", stream: false))
        let failure = await harness.event(.upstreamError)
        await harness.stop()
        #expect(answer.status == 502)
        #expect(answer.body.contains("\"upstream_error\"") && answer.body.contains("while sending its answer"), "\(answer.body)")
        #expect(server.requests.count == 3)
        #expect(harness.events.all.filter { $0.kind == .retry }.count == 2)
        #expect(failure?.detail.contains("while sending its answer") == true, "\(failure?.detail ?? "")")
        let exchange = try store.exchange(try #require(try store.exchanges(episode: "ep-1", step: 0).first))
        #expect(exchange.attempts == 3 && exchange.response.status == 502 && exchange.usage == nil)
        #expect(exchange.error?.contains("while sending its answer") == true, "\(exchange.error ?? "")")
    }

    @Test("an upstream that stalls before its first byte over TLS is the client's 504 (first-byte timeout), not retried; the gateway keeps serving")
    func stallBeforeFirstByte() async throws {
        let timeouts = UpstreamTimeouts(connect: .seconds(10), firstByte: .milliseconds(500), total: .seconds(120))
        let (server, upstream, folder) = try Self.start([["content": "late words", "stall_seconds": 60], ["content": "On time."]], timeouts: timeouts)
        defer { server.stop(); try? FileManager.default.removeItem(at: folder) }
        let store = try temporaryStore()
        let harness = try await Harness.start(upstream, record: store)
        let stalled = try await harness.post("/v1/chat/completions", Self.request("first", stream: false))
        let failure = await harness.event(.upstreamError)
        let requestsAfterStall = server.requests.count
        let after = try await harness.post("/v1/chat/completions", Self.request("second", stream: false))
        await harness.stop()
        #expect(stalled.status == 504)
        #expect(stalled.body.contains("\"upstream_timeout\"") && stalled.body.contains("first-byte timeout"), "\(stalled.body)")
        #expect(requestsAfterStall == 1, "a timeout is not retried")
        #expect(!harness.events.all.contains { $0.kind == .retry })
        #expect(failure?.detail.contains("first-byte timeout") == true, "\(failure?.detail ?? "")")
        #expect(after.status == 200 && after.body.contains("On time."), "\(after.body)")
        let hashes = try store.exchanges(episode: "ep-1", step: 0)
        #expect(hashes.count == 2)
        let exchange = try store.exchange(try #require(hashes.first))
        #expect(exchange.attempts == 1 && exchange.response.status == 504 && exchange.firstByteRecorded == false)
        #expect(exchange.error?.contains("first-byte timeout") == true, "\(exchange.error ?? "")")
    }
}

extension Exchange {
    /// Whether the exchange recorded a first byte from the upstream.
    fileprivate var firstByteRecorded: Bool { timings.firstByteMs != nil }
}
