import Testing
import Foundation
@testable import PLSDomain

@Suite("Roles and scope")
struct AccessTests {
    let me = UUID()
    let firm = UUID()
    let county = DivisionCode("349901000000")!
    let city = DivisionCode("349900000000")!

    @Test func cityWideRolesSeeEverything() {
        for role in [Role.cityAdmin, .leader, .auditor] {
            #expect(DataScope.of(role: role, accountID: me, region: county, institutionID: nil) == .everything)
        }
    }

    @Test func countyStaffSeeTheirCounty() {
        #expect(DataScope.of(role: .countyAdmin, accountID: me, region: county, institutionID: nil) == .region(county))
        #expect(DataScope.of(role: .hotlineOperator, accountID: me, region: city, institutionID: nil) == .everything)
        #expect(DataScope.of(role: .windowClerk, accountID: me, region: county, institutionID: firm) == .region(county))
    }

    @Test func institutionStaffSeeTheirInstitution() {
        #expect(DataScope.of(role: .practitioner, accountID: me, region: county, institutionID: firm) == .institution(firm))
        #expect(DataScope.of(role: .institutionAdmin, accountID: me, region: county, institutionID: firm) == .institution(firm))
    }

    @Test func citizensSeeOnlyTheirOwn() {
        let scope = DataScope.of(role: .citizen, accountID: me, region: city, institutionID: nil)
        #expect(scope == .own(me))
        #expect(scope.includes(region: county, institution: nil, owner: me))
        #expect(!scope.includes(region: county, institution: nil, owner: UUID()))
    }

    @Test func regionScopeIncludesDescendantsOnly() {
        let scope = DataScope.region(county)
        #expect(scope.includes(region: DivisionCode("349901101203")!, institution: nil))
        #expect(!scope.includes(region: DivisionCode("349902101203")!, institution: nil))
        #expect(!scope.includes(region: city, institution: nil), "a county does not see the city's own records")
    }

    @Test func whoMayGrantWhat() {
        #expect(RegistryPermission.canGrant(.cityAdmin, by: .cityAdmin))
        #expect(!RegistryPermission.canGrant(.cityAdmin, by: .countyAdmin))
        #expect(!RegistryPermission.canGrant(.leader, by: .countyAdmin))
        #expect(!RegistryPermission.canGrant(.countyAdmin, by: .countyAdmin))
        #expect(RegistryPermission.canGrant(.windowClerk, by: .countyAdmin))
        for role in Role.allCases where role != .cityAdmin && role != .countyAdmin {
            #expect(!RegistryPermission.canGrant(.hotlineOperator, by: role))
        }
    }

    @Test func readOnlyRolesEditNothing() {
        for role in [Role.leader, .auditor, .citizen, .hotlineOperator, .practitioner] {
            #expect(!RegistryPermission.canEditInstitutions(role))
            #expect(!RegistryPermission.canEditRegions(role))
            #expect(!RegistryPermission.canManageAccounts(role))
        }
        #expect(RegistryPermission.canEditInstitutions(.institutionAdmin))
        #expect(!RegistryPermission.canCreateInstitutions(.institutionAdmin))
    }
}

@Suite("Sign-in lock-out")
struct LoginThrottleTests {
    let throttle = LoginThrottle(maxFailures: 5, lockDuration: 900)
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func fifthFailureLocksForFifteenMinutes() {
        var state = LoginThrottle.State(failures: 0, lockedUntil: nil)
        for _ in 1...4 { state = throttle.afterFailure(state, at: t0) }
        #expect(!throttle.isLocked(state, at: t0))
        state = throttle.afterFailure(state, at: t0)
        #expect(throttle.isLocked(state, at: t0))
        #expect(throttle.isLocked(state, at: t0.addingTimeInterval(899)))
        #expect(!throttle.isLocked(state, at: t0.addingTimeInterval(900)))
    }

    @Test func aFailureAfterTheLockStartsCountingAgain() {
        var state = LoginThrottle.State(failures: 5, lockedUntil: t0)
        state = throttle.afterFailure(state, at: t0.addingTimeInterval(1))
        #expect(state.failures == 1)
        #expect(!throttle.isLocked(state, at: t0.addingTimeInterval(1)))
    }

    @Test func successResets() {
        #expect(throttle.afterSuccess() == .init(failures: 0, lockedUntil: nil))
    }
}

@Suite("Mobile numbers and masking")
struct MobileTests {
    @Test(arguments: ["13800000000", "+86 138 0000 0000", "199-1234-5678"])
    func valid(raw: String) { #expect(MobileNumber(raw) != nil) }

    @Test(arguments: ["12800000000", "1380000000", "138000000001", "1380000000a", "", "01380000000"])
    func invalid(raw: String) { #expect(MobileNumber(raw) == nil) }

    @Test func masks() {
        #expect(MobileNumber("13912345678")?.masked == "139****5678")
        #expect(Masking.idNumber("34010219900307123X") == "34***************X")
        // Masking a masked number again gives the same (rows stored with the older, wider mask are shown this way).
        #expect(Masking.idNumber("3401**********123X") == "34***************X")
    }
}

@Suite("Indicator arithmetic")
struct IndicatorTests {
    @Test func ratioAndTarget() {
        let f = IndicatorFigure.ratio(1291, of: 1360)
        #expect(f.numerator == 1291 && f.denominator == 1360)
        #expect(f.rounded == 94.9)
        #expect(f.meets(100, .atLeast) == false)
        #expect(IndicatorFigure.ratio(3, of: 3).meets(100, .atLeast) == true)
        #expect(IndicatorComparator.atLeast.isMet(value: 75.0, target: 75))
        #expect(!IndicatorComparator.atLeast.isMet(value: 74.99, target: 75))
        #expect(IndicatorComparator.atMost.isMet(value: 2, target: 3))
    }

    @Test("nothing to measure has no figure, met or not: 0/0 is not 100%")
    func emptyDenominator() {
        let none = IndicatorFigure.ratio(0, of: 0)
        #expect(none.value == nil && none.rounded == nil)
        #expect(none.meets(100, .atLeast) == nil && none.meets(3, .atMost) == nil)
        #expect(!none.isSmallSample)
        #expect(IndicatorFigure.ratio(2, of: 2).isSmallSample && !IndicatorFigure.ratio(9, of: 10).isSmallSample)
        #expect(IndicatorFigure.count(0).meets(1, .atLeast) == false)
    }

    @Test("the plan's 2/3 case rounds as reports print it")
    func thirds() {
        #expect(IndicatorFigure.ratio(2, of: 3).rounded == 66.7)
    }
}
