-- Health of a child Application, as its parent app-of-apps sees it.
-- Argo CD dropped this check in 1.8, after which a parent no longer waits for a child to be
-- healthy and sync waves between Applications order nothing.
-- An Application that is Healthy but not Synced, or still running an operation, reports the
-- status of the previous sync: treat it as Progressing so the next wave does not start early.
-- One whose last operation failed (a sync error, a failed hook) is Degraded, even when its
-- resources look Synced and Healthy: what the hook was to do did not happen.
local hs = {}
hs.status = "Progressing"
hs.message = "waiting for the Application to be synced and healthy"
if obj.status == nil or obj.status.health == nil then
  return hs
end
local operation = obj.status.operationState
if operation ~= nil and (operation.phase == "Running" or operation.phase == "Terminating") then
  hs.message = "sync in progress"
  return hs
end
if operation ~= nil and (operation.phase == "Failed" or operation.phase == "Error") then
  hs.status = "Degraded"
  if operation.phase == "Failed" then
    hs.message = "the last sync failed"
  else
    hs.message = "the last sync ended in an error"
  end
  if operation.message ~= nil and operation.message ~= "" then
    hs.message = hs.message .. ": " .. operation.message
  end
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
