import Agents
import Foundation
import Gateway
import Sandbox
import Synchronization

/// How a run's agents reach their models: the gateway's mode, the recording it reads, the port
/// it listens on inside each sandbox.
public struct ModelOptions: Sendable, Equatable {
    /// `record` (the default), `replay` (no upstream contact) or `record-missing`.
    public var mode: ModelsMode
    /// The recording `replay` and `record-missing` read: a run folder or its `models` folder.
    public var recording: URL?
    /// The gateway's port inside each sandbox.
    public var port: UInt16
    /// The price table (YAML); nil counts tokens without cost.
    public var prices: String?
    /// Spending limits of this invocation, in US dollars (per run, per episode).
    public var budget: Budget

    /// Creates options.
    public init(mode: ModelsMode = .record, recording: URL? = nil, port: UInt16 = GatewayListener.defaultPort, prices: String? = nil,
                budget: Budget = Budget()) {
        self.budget = budget
        self.mode = mode
        self.recording = recording
        self.port = port
        self.prices = prices
    }
}

/// The run's one model gateway: an upstream per agent with `network: gateway`, a token per
/// episode, a server per sandboxed command on the listening socket its launcher hands over,
/// every exchange recorded in the run's `models/` folder.
final class RunGateway: Sendable {
    /// The folder of a run's exchange store.
    static let folderName = "models"

    let gateway: Gateway
    let store: ExchangeStore
    let port: UInt16
    let budget: Budget
    /// Figures for the progress line.
    let counter = ModelCounter()

    private init(gateway: Gateway, store: ExchangeStore, port: UInt16, budget: Budget) {
        self.budget = budget
        self.gateway = gateway
        self.store = store
        self.port = port
    }

    /// A gateway for `agents`, recording into `runFolder/models`; nil when no agent uses one.
    /// - Throws: `RunStoreError` for a recording that cannot be read or an invalid upstream.
    static func make(agents: [String: any Agent], options: ModelOptions, runFolder: URL) throws -> RunGateway? {
        let upstreams = try agents.sorted { $0.key < $1.key }.compactMap { id, agent -> Upstream? in
            guard agent.network == .gateway else { return nil }
            guard let upstream = agent.upstream, let modelProtocol = ModelProtocol(rawValue: upstream.modelProtocol) else {
                throw RunStoreError.invalid(path: runFolder.path, reason: "agent '\(id)' uses the gateway but names no upstream",
                                            hint: "give it `base_url`, `protocol` and `key_env`")
            }
            var made = Upstream(name: id, baseURL: upstream.baseURL, modelProtocol: modelProtocol, keyVariable: upstream.keyVariable,
                                caBundlePath: upstream.caBundlePath)
            if let tuning = upstream.tuning { tune(&made, tuning) }
            return made
        }
        guard !upstreams.isEmpty else { return nil }
        do {
            let store = try ExchangeStore(root: runFolder.appendingPathComponent(folderName).path)
            var replay: ExchangeStore?
            if options.mode == .replay || options.mode == .recordMissing {
                guard let recording = options.recording else {
                    throw RunStoreError.invalid(path: runFolder.path, reason: "--models \(options.mode.rawValue) needs a recording to read",
                                                hint: "name the recorded run with --recording RUN")
                }
                let nested = recording.appendingPathComponent(folderName)
                let root = FileManager.default.fileExists(atPath: nested.appendingPathComponent("exchanges").path) ? nested : recording
                guard FileManager.default.fileExists(atPath: root.appendingPathComponent("exchanges").path) else {
                    throw RunStoreError.invalid(path: recording.path, reason: "no recorded model exchanges there (no \(folderName)/exchanges folder)",
                                                hint: "name a run recorded with --models record")
                }
                replay = try ExchangeStore(root: root.path)
            }
            let prices = try options.prices.map { try PriceTable.load(path: $0) }
            let configuration = GatewayConfiguration(upstreams: upstreams, mode: options.mode, recordStore: store, replayStore: replay, prices: prices,
                                                     budget: options.budget)
            return RunGateway(gateway: try Gateway(configuration: configuration), store: store, port: options.port, budget: options.budget)
        } catch let error as GatewayError {
            throw RunStoreError.invalid(path: runFolder.path, reason: "the model gateway cannot start: \(error)", hint: "fix what the message names")
        }
    }

    /// Applies an agent's tuning settings to its upstream; unset fields keep the gateway's defaults.
    static func tune(_ upstream: inout Upstream, _ tuning: UpstreamTuning) {
        func duration(_ seconds: Double) -> Duration { .milliseconds(Int64((seconds * 1000).rounded())) }
        if let retries = tuning.retries { upstream.retry.maxAttempts = retries + 1 }
        if let seconds = tuning.connectSeconds { upstream.timeouts.connect = duration(seconds) }
        if let seconds = tuning.firstByteSeconds { upstream.timeouts.firstByte = duration(seconds) }
        if let seconds = tuning.totalSeconds { upstream.timeouts.total = duration(seconds) }
        if let count = tuning.maxConcurrent { upstream.maxConcurrent = count }
    }

    /// Refuses, before anything is made, a gateway agent whose upstream key is not in the runner's
    /// environment (unless the answers come from a recording).
    static func checkKeys(agents: [String: any Agent], mode: ModelsMode, suite: String) throws {
        guard mode != .replay else { return }
        let environment = ProcessInfo.processInfo.environment
        for (id, agent) in agents.sorted(by: { $0.key < $1.key }) where agent.network == .gateway {
            guard let variable = agent.upstream?.keyVariable, environment[variable]?.isEmpty ?? true else { continue }
            throw RunStoreError.invalid(path: suite, reason: "agent '\(id)' needs its upstream's key in \(variable), which is not set in driftbox's environment",
                                        hint: "export \(variable) (the gateway sends it upstream; the agent never sees it), set the agent's `key_env` to the variable that holds it (empty for none), or answer from a recording with --models replay")
        }
    }

    /// Why an episode may not start another step: the run's or the episode's spending reached
    /// its budget (costs counted by this invocation's gateway); nil while both are below.
    func budgetReached(episode: String) async -> String? {
        if let limit = budget.runUSD {
            let spent = await gateway.totals(.run).costUSD
            if spent >= limit { return String(format: "the run's model budget of $%.4f is spent ($%.4f)", limit, spent) }
        }
        if let limit = budget.episodeUSD {
            let spent = await gateway.totals(.episode(episode)).costUSD
            if spent >= limit { return String(format: "the episode's model budget of $%.4f is spent ($%.4f)", limit, spent) }
        }
        return nil
    }

    /// The episode's token.
    func register(episode: String, agent: String) async throws -> String {
        do { return try await gateway.register(episode: episode, agent: agent, upstream: agent) } catch {
            throw RunStoreError.invalid(path: store.root, reason: "episode '\(episode)' cannot use the gateway: \(error)", hint: "fix the agent's upstream")
        }
    }

    /// What the gateway saw of one step.
    struct StepModels: Sendable {
        /// The hashes of the step's exchanges, in order.
        var exchanges: [String]
        /// What it refused or reported (isolation attempts, replay misses, retries, upstream errors).
        var events: [ModelEvent]
        /// Events beyond the kept ones, counted.
        var eventsDropped: Int
    }

    /// Runs one step with the gateway serving every listening socket its commands hand over,
    /// then stops those servers and makes the step's exchanges durable.
    /// - Returns: what `body` returned and what the gateway saw of the step.
    func serveStep<T: Sendable>(episode: String, step: Int, token: String,
                                _ body: @Sendable (GatewayAccess) async throws -> T) async throws -> (T, StepModels) {
        _ = gateway.takeEvents(episode: episode)  // anything left from an interrupted attempt
        do { try store.resetStep(episode: episode, step: step) } catch {
            throw RunStoreError.invalid(path: store.root, reason: "\(error)", hint: "repair the run folder, then `driftbox resume` it")
        }
        await gateway.beginStep(episode: episode, step: step)
        // The servers of the step's commands; once the step is over (`closed`), a socket handed
        // over late (a command still starting when the step was cancelled) is closed at once.
        let servers = Mutex<(tasks: [Task<GatewayServer?, Never>], closed: Bool)>(([], false))
        let gateway = self.gateway
        // An agent in the runner's own process (kind `model`) gets one listener on the host's
        // loopback for the step, started when it first asks, accepting this episode's token only.
        let host = Mutex<(task: Task<GatewayServer, any Error>?, closed: Bool)>((nil, false))
        let endpoint: @Sendable () async throws -> String = {
            let task = try host.withLock { state -> Task<GatewayServer, any Error> in
                if let task = state.task { return task }
                guard !state.closed else { throw CancellationError() }
                let task = Task<GatewayServer, any Error> { try await GatewayServer.serve(gateway, host: "127.0.0.1", port: 0, episode: episode) }
                state.task = task
                return task
            }
            return "http://127.0.0.1:\(try await task.value.port)"
        }
        let access = GatewayAccess(port: port, token: token, received: { fd in
            let served = servers.withLock { state -> Bool in
                guard !state.closed else { return false }
                state.tasks.append(Task<GatewayServer?, Never> { try? await GatewayServer.serve(gateway, listeningSocket: fd, episode: episode) })
                return true
            }
            if !served { close(fd) }
        }, runnerEndpoint: endpoint)
        func stop() async {
            let tasks = servers.withLock { state in
                state.closed = true
                return state.tasks
            }
            for task in tasks { await task.value?.shutdown() }
            let listener = host.withLock { state in
                state.closed = true
                return state.task
            }
            if let listener { await (try? listener.value)?.shutdown() }
        }
        let value: T
        do { value = try await body(access) } catch {
            await stop()
            throw error
        }
        await stop()
        // Every event is reported before its answer is written: with the servers down, all are in.
        let (events, dropped) = gateway.takeEvents(episode: episode)
        let formatter = ISO8601DateFormatter()
        let recorded = events.map { ModelEvent(kind: $0.kind.rawValue, attempted: $0.attempted, detail: $0.detail, time: formatter.string(from: $0.time)) }
        let totals = await gateway.totals(.step(episode: episode, step: step))
        counter.add(exchanges: totals.exchanges, tokens: totals.usage.input + totals.usage.output, costUSD: totals.costUSD)
        do {
            try store.sync(episode: episode, step: step)
            return (value, StepModels(exchanges: try store.exchanges(episode: episode, step: step), events: recorded, eventsDropped: dropped))
        } catch {
            throw RunStoreError.invalid(path: store.root, reason: "the model exchanges of \(episode) step \(step) cannot be stored: \(error)",
                                        hint: "free space or repair the run folder, then `driftbox resume` it")
        }
    }
}
