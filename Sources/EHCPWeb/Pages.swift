import EHCPAPI
import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird
import Mustache

/// The Mustache templates (`Resources/templates`, one per page and shared partials), loaded once.
public struct Pages: Sendable {
    let library: MustacheLibrary

    public init() throws {
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("templates"),
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        else {
            throw Problem(.internalServerError, title: "Templates missing", detail: "the EHCPWeb bundle has no templates", code: "internal")
        }
        var library = MustacheLibrary()
        for name in names where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            try library.register(text, named: String(name.dropLast(".mustache".count)))
        }
        self.library = library
    }

    /// A page as an HTML response, with the headers every page carries: no caching of personal details,
    /// no framing, and a content security policy that allows only this service's own files.
    func render(_ template: String, _ view: Any, status: HTTPResponse.Status = .ok) -> Response {
        let html =
            library.render(TemplateValues.box(view) ?? [String: Any](), withTemplate: template)
            ?? "<!DOCTYPE html><title>Missing page</title><p>The page template \(template) is missing."
        return Response(status: status, headers: Self.headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static let headers: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .cacheControl: "no-store",
        .init("Content-Security-Policy")!:
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        .init("X-Frame-Options")!: "DENY",
        .init("X-Content-Type-Options")!: "nosniff",
        .init("Referrer-Policy")!: "same-origin",
    ]

    /// A redirect after a form (303, so that reloading the next page never resends the form).
    static func redirect(_ location: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }
}

/// What every page's layout shows: the title, who is signed in, the navigation and the form token.
/// Only stored properties reach a template (Mustache reads values by reflection).
struct Layout {
    struct Link {
        var href: String
        var text: String
        var current: Bool
    }
    var title: String
    /// The page title as the browser's tab shows it; "Error: " first when the page has errors (GOV.UK pattern).
    var documentTitle: String
    var userName: String?
    var formToken: String?
    var navigation: [Link] = []
    var hasNavigation: Bool
    var backLink: String?
    /// Errors for the error summary at the top of the main content.
    var errors: [FieldError]
    var hasErrors: Bool
    /// When the figures came from the reporting standby: how current they are, in words.
    var dataAsOf: String?

    init(title: String, session: WebSession?, current: String? = nil, backLink: String? = nil, errors: [FieldError] = []) {
        self.title = title
        documentTitle = (errors.isEmpty ? "" : "Error: ") + title + " – Manage EHC needs assessments"
        userName = session?.name
        formToken = session?.formToken
        self.backLink = backLink
        self.errors = errors
        hasErrors = !errors.isEmpty
        dataAsOf = DataAsOf.current?.value.map {
            "This page comes from the reporting copy of the database, as it was at \(London.clock($0, seconds: true))."
        }
        if let session {
            navigation = [
                Link(href: "/", text: "My work", current: current == "/"), Link(href: "/cases", text: "Cases", current: current == "/cases"),
            ]
            if Roles.writeCases.contains(session.role) {
                navigation.append(Link(href: "/cases/new", text: "Open a case", current: current == "/cases/new"))
            }
            if Roles.reports.contains(session.role) {
                navigation.append(Link(href: "/dashboard", text: "Dashboard", current: current == "/dashboard"))
                navigation.append(Link(href: "/reports/breaches", text: "Breach report", current: current == "/reports/breaches"))
                navigation.append(Link(href: "/reports/dfe", text: "DfE measures", current: current == "/reports/dfe"))
                navigation.append(Link(href: "/reports/sen2", text: "SEN2", current: current == "/reports/sen2"))
            }
            navigation.append(Link(href: "/alerts", text: "Alerts", current: current == "/alerts"))
        }
        hasNavigation = !navigation.isEmpty
    }
}

/// One choice of a select or of radios: its value, its words, and whether it is the one chosen.
struct Option {
    var value: String
    var text: String
    var selected: Bool
}

/// One error for the error summary and its field: `field` is the id of the input the summary links to.
struct FieldError: Error, Sendable {
    var field: String
    var message: String
}

extension String {
    /// "personalCircumstances" as "Personal circumstances".
    var humanised: String {
        var words = ""
        for character in self {
            if character.isUppercase, !words.isEmpty { words += " " }
            words += words.isEmpty ? String(character).uppercased() : String(character).lowercased()
        }
        return words
    }
}

/// A view as dictionaries and arrays, made by reflecting over it once. Mustache otherwise reflects
/// (`Mirror`) at every name it looks up, on every object of its context stack, which cost a case page
/// more time than everything else it does. Nil values are left out, which Mustache treats as it treats
/// nil: not found here, so looked up in the enclosing context.
enum TemplateValues {
    static func box(_ value: Any) -> Any? {
        switch value {
        case is String, is Int, is Bool, is Double: return value
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional: return mirror.children.first.flatMap { box($0.value) }
        case .collection, .set: return mirror.children.compactMap { box($0.value) }
        case .struct, .class:
            var values: [String: Any] = [:]
            for child in mirror.children {
                if let label = child.label, let boxed = box(child.value) { values[label] = boxed }
            }
            return values
        default: return value
        }
    }
}
