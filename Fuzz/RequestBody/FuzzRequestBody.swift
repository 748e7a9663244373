// The request-body fuzz target: every byte string a client can send to `POST /v1/cases/{id}/events`
// (or as a case opening's `event`) goes through the same pure steps the server runs, in order:
// the limits scanner, the JSON parser, the event envelope and the event codec (strict), then the
// stored-event read path (lenient) on what would be stored. Any trap is a crash of the whole server.
//
// It also checks two properties that must hold for every accepted event:
// - encoding it and decoding the result (as the store does) gives the same event;
// - the decider can fold it or refuses it with a typed error.
//
// Built with libFuzzer (docs/security.md, "Fuzzing"):
//   swiftc -sanitize=fuzzer,address -parse-as-library -DFUZZING … (scripts/fuzz.sh does it);
// built without -DFUZZING it replays the files named on its command line (a crash reproducer).
import EHCPDomain
import Foundation

let today = CivilDate(iso: "2026-11-30")!
let decider = CaseDecider(engine: DeadlineEngine(calendar: WorkingDayCalendar(bankHolidays: []), settings: LocalSettings()))

func requestBody(_ bytes: [UInt8]) {
    guard (try? JSONLimitScanner.check(bytes)) != nil, let value = try? JSONValue.parse(bytes), let object = value.objectValue else { return }
    _ = value.compactDescription
    for candidate in [object, object["event"]?.objectValue].compactMap({ $0 }) {
        guard let envelope = try? EventEnvelope.decode(candidate) else { continue }
        let data = EventCodec.encodedData(envelope.event)
        guard let stored = try? EventCodec.decodeStored(type: envelope.event.typeName, json: data, schemaVersion: EventCodec.currentSchemaVersion)
        else { fatalError("an accepted \(envelope.event.typeName) cannot be read back from its stored form: \(data)") }
        guard stored == envelope.event else { fatalError("\(envelope.event.typeName) changed on its way through storage: \(data)") }
        // Fold it onto a case opened the same day, as the decider would (refusals are typed errors).
        var state = CaseState(history: [])
        let opening = LogEvent(.requestReceived(RequestReceived(requestSource: .parent)), on: envelope.occurredOn, by: "fuzz", today: today)
        if let opened = try? decider.decide(state, opening) { for event in opened { state.evolve(event) } }
        if let recorded = try? decider.decide(state, LogEvent(envelope.event, on: envelope.occurredOn, by: "fuzz", today: today)) {
            for event in recorded { state.evolve(event) }
            _ = state.deadlines(decider.engine, asOf: today)
        }
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
        requestBody(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }

    @_silgen_name("LLVMFuzzerRunDriver")
    func runDriver(
        _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
    ) -> CInt

    // SwiftPM links an executable's entry point as `<module>_main`; hand it to libFuzzer's driver.
    @_cdecl("ehcp_fuzz_request_body_main")
    public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var count = argc
        var arguments = argv
        return runDriver(&count, &arguments, fuzz)
    }
#else
    @main
    struct Replay {
        static func main() throws {
            let files = CommandLine.arguments.dropFirst()
            for path in files { requestBody(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) }
            print("replayed \(files.count) inputs with no crash")
        }
    }
#endif
