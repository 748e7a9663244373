import Testing

@testable import EHCPWeb

@Suite("Where sign-in goes next")
struct SignInNextTests {
    @Test("a path on this service is kept; another site, or anything a browser would rewrite into one, goes to my work")
    func next() {
        #expect(SignIn.next("/cases/0a1b?recorded=3") == "/cases/0a1b?recorded=3")
        #expect(SignIn.next("/") == "/")
        for hostile in ["//evil.example", "/\t/evil.example", "/\n/evil.example", "/\\evil.example", "https://evil.example", "evil", "", nil] {
            #expect(SignIn.next(hostile) == "/", "\(String(describing: hostile))")
        }
    }
}
