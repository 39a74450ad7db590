-- Health of a child Application, as its parent app-of-apps sees it.
-- Argo CD dropped this check in 1.8, after which a parent no longer waits for a child to be
-- healthy and sync waves between Applications order nothing.
-- An Application that is Healthy but not Synced, or still running an operation, reports the
-- status of the previous sync: treat it as Progressing so the next wave does not start early.
local hs = {}
hs.status = "Progressing"
hs.message = "waiting for the Application to be synced and healthy"
if obj.status == nil or obj.status.health == nil then
  return hs
end
if obj.status.operationState ~= nil and obj.status.operationState.phase == "Running" then
  hs.message = "sync in progress"
  return hs
end
local health = obj.status.health.status
local sync = nil
if obj.status.sync ~= nil then
  sync = obj.status.sync.status
end
if health == "Healthy" and sync ~= "Synced" then
  hs.message = "healthy but not synced yet"
  return hs
end
hs.status = health
if obj.status.health.message ~= nil then
  hs.message = obj.status.health.message
else
  hs.message = ""
end
return hs
