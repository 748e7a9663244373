import EHCPDomain
import Foundation
import Hummingbird

/// JSON output (`JSONWriter`): sorted keys, UUIDs in lower case, dates as `YYYY-MM-DD`, timestamps in ISO 8601.
/// A response that builds its JSON value directly, skipping the encoder (for the busiest responses).
protocol JSONValueRepresentable {
    var jsonValue: JSONValue { get }
}

enum JSONOutput {
    static func bytes(_ value: some Encodable) -> [UInt8] {
        if let direct = value as? any JSONValueRepresentable { return JSONWriter.bytes(direct.jsonValue) }
        // Our response types hold no value JSON cannot carry, so encoding cannot fail.
        return (try? JSONWriter.value(value)).map(JSONWriter.bytes) ?? Array(#"{"error":"encoding failed"}"#.utf8)
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes(value))))
    }
}
