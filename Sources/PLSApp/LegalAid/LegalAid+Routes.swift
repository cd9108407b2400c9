import Vapor
import PLSDomain

extension RouteGroups {
    /// Legal aid: the pre-check, applications and notified defence, the steps on a case, duty lawyers, settings and
    /// statistics.
    func legalAid() {
        let aid = api.grouped("legal-aid")
        aid.post("eligibility", use: LegalAidController.apiEligibility)
        aid.get("matters", use: LegalAidController.apiMatters)
        aid.put("matters", ":id", use: LegalAidController.apiSaveMatter)
        aid.get("thresholds", use: LegalAidController.apiThresholds)
        aid.get("thresholds", ":countyCode", use: LegalAidController.apiThreshold)
        aid.put("thresholds", ":countyCode", use: LegalAidController.apiSaveThreshold)
        aid.get("deadline-rules", use: LegalAidController.apiRules)
        aid.put("deadline-rules", ":key", use: LegalAidController.apiSaveRule)
        aid.get("subsidy-rates", use: LegalAidController.apiRates)
        aid.put("subsidy-rates", use: LegalAidController.apiSaveRate)
        aid.get("roster", use: LegalAidController.apiRoster)
        aid.put("roster", ":practitionerId", use: LegalAidController.apiSaveRosterEntry)
        aid.post("applications", use: LegalAidController.apiApply)
        aid.post("notices", use: LegalAidController.apiNotice)
        aid.get("cases", ":id", use: LegalAidController.apiCase)
        aid.get("cases", ":id", "candidates", use: LegalAidController.apiCandidates)
        for step in LegalAidCases.Step.allCases {
            aid.post("cases", ":id", PathComponent(stringLiteral: step.rawValue), use: LegalAidController.step(step))
        }
        aid.get("duty-stations", use: LegalAidController.apiStations)
        aid.post("duty-stations", use: LegalAidController.apiCreateStation)
        aid.get("duty-stations", ":id", "shifts", use: LegalAidController.apiShifts)
        aid.put("duty-stations", ":id", "shifts", ":day", use: LegalAidController.apiSetShift)
        aid.get("duty-persons", use: LegalAidController.apiPersons)
        aid.post("duty-persons", use: LegalAidController.apiRegisterPerson)
        aid.post("duty-assistances", use: LegalAidController.apiRecordAssistance)
        aid.get("statistics", use: LegalAidController.apiStatistics)
        web.get("legal-aid", use: LegalAidPages.check)
        web.post("legal-aid", use: LegalAidPages.checkSubmit)
        web.get("legal-aid", "apply", use: LegalAidPages.applyForm)
        web.post("legal-aid", "apply", use: LegalAidPages.apply)
        web.post("my", ":number", "legal-aid", "objection", use: LegalAidPages.object)
        web.get("legal-aid", "cases", ":id", "notices", ":kind", use: LegalAidPages.notice)
        web.get("legal-aid", "desk", use: LegalAidPages.desk)
        web.get("legal-aid", "notices", "new", use: LegalAidPages.noticeForm)
        web.post("legal-aid", "notices", "new", use: LegalAidPages.noticeSubmit)
        web.get("legal-aid", "duty", use: LegalAidPages.dutyPage)
        web.post("legal-aid", "duty", "assistances", use: LegalAidPages.recordAssistance)
        web.get("legal-aid", "statistics", use: LegalAidPages.statistics)
        web.post("work", ":id", "legal-aid", ":step", use: LegalAidPages.step)
        admin.get("legal-aid", use: LegalAidPages.settingsPage)
        admin.post("legal-aid", ":what", ":key", use: LegalAidPages.saveSetting)
    }
}
