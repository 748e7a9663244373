import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal blocking HTTP/1.1 keep-alive client for benchmarks over loopback: one socket, one request at
/// a time, Content-Length bodies only. Each benchmark client runs it on its own thread, so the client
/// costs little and the numbers describe the server.
final class LoopbackHTTPClient {
    private let socket: Int32
    private var buffer: [UInt8] = []
    /// What one recv fills, reused.
    private var chunk = [UInt8](repeating: 0, count: 16_384)

    struct Failure: Error, CustomStringConvertible { var description: String }

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket() failed") }
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            throw Failure(description: "cannot connect to 127.0.0.1:\(port)")
        }
    }

    deinit { close(socket) }

    /// Sends one request and returns the status code and body.
    func send(method: String, path: String, headers: [String: String], body: String) throws -> (status: Int, body: String) {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        let bytes = Array((request + "\r\n" + body).utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed") }
            sent += n
        }
        let headerEnd = try readUntilHeaderEnd()
        let head = buffer[..<headerEnd]
        // "HTTP/1.1 201 Created": the status is the three digits after the first space.
        guard let space = head.firstIndex(of: UInt8(ascii: " ")), head.endIndex - space > 3,
            let status = Self.number(head[(space + 1)..<(space + 4)])
        else { throw Failure(description: "bad status line: \(String(decoding: head.prefix(40), as: UTF8.self))") }
        let length = Self.contentLength(head) ?? 0
        buffer.removeFirst(headerEnd + 4)
        while buffer.count < length { try fill() }
        let body = String(decoding: buffer[..<length], as: UTF8.self)
        buffer.removeFirst(length)
        return (status, body)
    }

    /// The value of the Content-Length header in a response head, read from its bytes: the client's work
    /// per request shares the machine's two cores with the server it measures.
    private static func contentLength(_ head: ArraySlice<UInt8>) -> Int? {
        let name = Array("content-length:".utf8)
        var lineStart = head.startIndex
        while lineStart < head.endIndex {
            let lineEnd = head[lineStart...].firstIndex(of: 13) ?? head.endIndex
            let line = head[lineStart..<lineEnd]
            if line.count > name.count, zip(line, name).allSatisfy({ $0 | 0x20 == $1 }) {
                return number(line.dropFirst(name.count).drop { $0 == UInt8(ascii: " ") })
            }
            lineStart = lineEnd + 2
        }
        return nil
    }

    private static func number(_ digits: some Collection<UInt8>) -> Int? {
        guard !digits.isEmpty else { return nil }
        var value = 0
        for digit in digits {
            guard digit >= 48, digit <= 57 else { return nil }
            value = value * 10 + Int(digit - 48)
        }
        return value
    }

    private func readUntilHeaderEnd() throws -> Int {
        var searched = 0
        while true {
            if buffer.count >= 4 {
                for index in searched...(buffer.count - 4)
                where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
                    return index
                }
                searched = buffer.count - 3
            }
            try fill()
        }
    }

    private func fill() throws {
        let n = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw Failure(description: "connection closed by the server") }
        buffer.append(contentsOf: chunk[..<n])
    }
}

/// Runs `count` blocking workers on their own threads and waits for all of them without blocking the
/// caller's executor.
func onThreads<T: Sendable>(_ count: Int, _ work: @escaping @Sendable (Int) throws -> T) async throws -> [T] {
    try await withCheckedThrowingContinuation { continuation in
        let results = ResultBox<T>(count: count)
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                results.set(index, Result { try work(index) })
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.notify(queue: .global()) {
            do { continuation.resume(returning: try results.values()) } catch { continuation.resume(throwing: error) }
        }
    }
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<T, any Error>?]
    init(count: Int) { results = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ result: Result<T, any Error>) { lock.withLock { results[index] = result } }
    func values() throws -> [T] { try lock.withLock { try results.map { try $0!.get() } } }
}
