import Testing
import Foundation
@testable import PLSDomain

@Suite("The demo city")
struct DemoCityTests {
    static let city = DemoCity(scale: .full)

    @Test("is at the scale of a real Anhui prefecture (architecture.md)")
    func scale() {
        let c = Self.city
        #expect(c.regions.filter { $0.level == .county }.count == 5)
        #expect(c.regions.filter { $0.level == .town }.count >= 80)
        #expect(c.regions.filter { $0.level == .village }.count >= 1_200)
        #expect(c.regions.filter { $0.level == .naturalVillage }.count >= 3_000)
        #expect(c.practitioners.filter { $0.type == .lawyer }.count >= 200)
        #expect(c.practitioners.filter { $0.type == .notary }.count >= 20)
    }

    @Test func isDeterministic() {
        let again = DemoCity(scale: .full)
        #expect(again.regions.map(\.name) == Self.city.regions.map(\.name))
        #expect(again.institutions.map(\.id) == Self.city.institutions.map(\.id))
        #expect(again.practitioners.map(\.licenceNumber) == Self.city.practitioners.map(\.licenceNumber))
    }

    @Test func everyRegionHangsOnItsParent() {
        let codes = Set(Self.city.regions.map(\.code))
        #expect(codes.count == Self.city.regions.count)
        for region in Self.city.regions {
            #expect(region.code.level == region.level)
            if let parent = region.code.parent { #expect(codes.contains(parent), "\(region.code)") }
            if region.level == .village { #expect(region.kind == region.code.villageKind) }
        }
    }

    @Test func institutionsAndPractitionersAreConsistent() {
        let c = Self.city
        let regions = Set(c.regions.map(\.code))
        let institutions = Dictionary(uniqueKeysWithValues: c.institutions.map { ($0.id, $0) })
        #expect(c.institutions.allSatisfy { regions.contains($0.region) })
        #expect(Set(c.practitioners.map(\.licenceNumber)).count == c.practitioners.count)
        for p in c.practitioners {
            #expect(institutions[p.institutionID]?.region == p.region)
            #expect(p.licenceNumber.count == 17)
        }
        #expect(c.institutions.filter { $0.type == .mediationCommittee }.allSatisfy { $0.committeeKind != nil })
        #expect(c.institutions.filter { $0.committeeKind == .industry }.allSatisfy { $0.industryField != nil })
    }

    @Test("centres everywhere, stations in every town, committees in most villages")
    func coverage() {
        let c = Self.city
        let counties = c.regions.filter { $0.level == .county }.map(\.code)
        for county in counties + [DemoCity.cityCode] {
            #expect(c.institutions.contains { $0.type == .publicLegalServiceCentre && $0.region == county })
        }
        for town in c.regions.filter({ $0.level == .town }) {
            #expect(c.institutions.contains { $0.type == .publicLegalServiceStation && $0.region == town.code })
        }
        let villages = c.regions.filter { $0.level == .village }
        let withCommittee = villages.filter { v in c.institutions.contains { $0.type == .mediationCommittee && $0.region == v.code } }
        #expect(withCommittee.count < villages.count, "some gaps for the dashboard to show")
        #expect(Double(withCommittee.count) / Double(villages.count) > 0.9)
    }

    @Test func demoAccounts() {
        let names = Set(Self.city.accounts.compactMap(\.username))
        #expect(names == ["admin", "county-admin", "operator", "clerk", "aid", "lawyer", "mediator", "adviser", "leader", "auditor"])
        let lawyer = Self.city.accounts.first { $0.username == "lawyer" }!
        let record = Self.city.practitioners.first { $0.id == lawyer.practitionerID }!
        #expect(record.type == .lawyer && record.institutionID == lawyer.institutionID)
        #expect(Self.city.accounts.first { $0.role == .citizen }?.mobile == DemoCity.citizenMobile)
    }
}
