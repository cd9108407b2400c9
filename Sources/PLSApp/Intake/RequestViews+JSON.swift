import Vapor

/// The request list and one request, written as JSON field by field (see `JSONWriter`); the field order is
/// the declaration order of the view types, as JSONEncoder would write them.
extension RequestViews.Row: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("id", id); $0.field("number", number); $0.field("matterType", matterType); $0.field("matterTypeName", matterTypeName)
            $0.field("category", category); $0.field("categoryName", categoryName); $0.field("channel", channel)
            $0.field("channelName", channelName); $0.field("applicantName", applicantName); $0.field("applicantMobile", applicantMobile)
            $0.field("priorityGroups", priorityGroups); $0.field("regionCode", regionCode); $0.field("regionName", regionName)
            $0.field("status", status); $0.field("statusName", statusName); $0.field("institutionId", institutionId)
            $0.field("institutionName", institutionName); $0.field("practitionerId", practitionerId)
            $0.field("practitionerName", practitionerName); $0.field("concludeDue", concludeDue); $0.field("overdue", overdue)
            $0.field("overdueStep", overdueStep); $0.field("createdAt", createdAt)
        }
    }
}

extension RequestViews.TimelineEntry: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("seq", seq); $0.field("at", at); $0.field("actor", actor); $0.field("action", action); $0.field("actionName", actionName)
            $0.field("fromStatus", fromStatus); $0.field("toStatus", toStatus); $0.field("toStatusName", toStatusName); $0.field("note", note)
        }
    }
}

extension RequestViews.Applicant: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("name", name); $0.field("mobile", mobile); $0.field("idNumber", idNumber); $0.field("birthDate", birthDate); $0.field("sex", sex)
        }
    }
}

extension RequestViews.Detail: JSONWritable {
    func write(to json: inout JSONWriter) throws {
        try json.object {
            $0.field("id", id); $0.field("number", number); $0.field("matterType", matterType); $0.field("matterTypeName", matterTypeName)
            $0.field("itemCode", itemCode); $0.field("category", category); $0.field("categoryName", categoryName); $0.field("channel", channel)
            $0.field("channelName", channelName); $0.field("description", description); try $0.field("applicant", applicant)
            $0.field("priorityGroups", priorityGroups); $0.field("regionCode", regionCode); $0.field("regionName", regionName)
            $0.field("status", status); $0.field("statusName", statusName); $0.field("institutionId", institutionId)
            $0.field("institutionName", institutionName); $0.field("practitionerId", practitionerId); $0.field("practitionerName", practitionerName)
            $0.field("acceptDue", acceptDue); $0.field("concludeDue", concludeDue); $0.field("overdue", overdue); $0.field("suspendedOn", suspendedOn)
            $0.field("transferTarget", transferTarget); $0.field("transferReference", transferReference)
            $0.field("externalReference", externalReference); $0.field("rejectReason", rejectReason); $0.field("outcome", outcome)
            $0.field("summary", summary); $0.field("concludedOn", concludedOn); $0.field("concludedOnTime", concludedOnTime)
            $0.field("rating", rating); $0.field("ratingComment", ratingComment); $0.field("createdAt", createdAt)
            $0.field("actions", actions); try $0.field("timeline", timeline)
            // What the matter cases add, each under its key; nested deeply: left to JSONEncoder.
            for s in sections { try $0.field(s.key, encodingAny: s.value) }
        }
    }
}
